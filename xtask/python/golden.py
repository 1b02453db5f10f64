"""Golden vectors: CQL values serialized by the DataStax Python driver's own serializers.

Writes crates/cql4-frame/tests/golden/python_driver.json, which
crates/cql4-frame/tests/golden_python.rs compares byte for byte with what cql4's ToCql writes for
the same values (the Rust test needs no Python). Each vector is one bound `[value]` exactly as the
driver puts it in an EXECUTE at protocol v4: `cassandra.protocol.write_value` of
`CassandraType.to_binary(value, 4)` (the `[int]` length, then the bytes; -1 for null).

Regenerate with `cargo xtask golden` (which runs this in the xtask venv, target/venv), or by hand:
    target/venv/bin/python xtask/python/golden.py crates/cql4-frame/tests/golden/python_driver.json

Values are chosen so the driver's output does not depend on the machine: sets and maps are
passed in sorted order (a Python set of strings iterates in hash order), timestamps from
integers or datetimes whose milliseconds are exact in a double.
"""

import datetime
import io
import json
import sys
import uuid
from decimal import Decimal

import cassandra
from cassandra import cqltypes as T
from cassandra.protocol import write_value
from cassandra.util import Date, Duration, Time

PROTOCOL_VERSION = 4


def casstype(name):
    """A driver type from its Cassandra marshal name, e.g. `MapType(UTF8Type, Int32Type)`."""
    return T.lookup_casstype(name)


ADDRESS = T.UserType.make_udt_class(
    "ks",
    "address",
    ("street", "zip", "tags"),
    (casstype("UTF8Type"), casstype("Int32Type"), casstype("SetType(UTF8Type)")),
)
# A UDT holding a UDT and a list of UDTs: `CREATE TYPE ks.person (name text, home
# frozen<address>, past list<frozen<address>>, nick text)`.
PERSON = T.UserType.make_udt_class(
    "ks",
    "person",
    ("name", "home", "past", "nick"),
    (
        casstype("UTF8Type"),
        ADDRESS,
        T.ListType.apply_parameters([T.FrozenType.apply_parameters([ADDRESS])]),
        casstype("UTF8Type"),
    ),
)

UUID_A = uuid.UUID("6ba7b810-9dad-11d1-80b4-00c04fd430c8")  # a version-1 (time) uuid
UUID_B = uuid.UUID("f47ac10b-58cc-4372-a567-0e02b2c3d479")  # a version-4 uuid

# (name, CQL type as cql4's ColumnType displays it, driver type, value, description)
CASES = []


def case(name, cql, driver_type, value, description=None):
    if isinstance(driver_type, str):
        driver_type = casstype(driver_type)
    CASES.append((name, cql, driver_type, value, description or repr(value)))


# --- native types, boundaries and empty values
case("boolean_true", "boolean", "BooleanType", True)
case("boolean_false", "boolean", "BooleanType", False)
for n, v in [("min", -128), ("zero", 0), ("minus_one", -1), ("max", 127)]:
    case(f"tinyint_{n}", "tinyint", "ByteType", v)
for n, v in [("min", -(2**15)), ("zero", 0), ("max", 2**15 - 1)]:
    case(f"smallint_{n}", "smallint", "ShortType", v)
for n, v in [("min", -(2**31)), ("zero", 0), ("minus_one", -1), ("max", 2**31 - 1)]:
    case(f"int_{n}", "int", "Int32Type", v)
for n, v in [("min", -(2**63)), ("zero", 0), ("one", 1), ("max", 2**63 - 1)]:
    case(f"bigint_{n}", "bigint", "LongType", v)
for n, v in [("min", -(2**63)), ("forty_two", 42), ("max", 2**63 - 1)]:
    case(f"counter_{n}", "counter", "CounterColumnType", v)
for n, v in [
    ("zero", 0.0),
    ("negative_zero", -0.0),
    ("one_and_a_half", 1.5),
    ("max", 3.4028234663852886e38),
    ("smallest_subnormal", 1.401298464324817e-45),
    ("infinity", float("inf")),
    ("negative_infinity", float("-inf")),
    ("nan", float("nan")),
]:
    case(f"float_{n}", "float", "FloatType", v)
for n, v in [
    ("zero", 0.0),
    ("negative_zero", -0.0),
    ("tenth", 0.1),
    ("max", 1.7976931348623157e308),
    ("smallest_subnormal", 5e-324),
    ("infinity", float("inf")),
    ("nan", float("nan")),
]:
    case(f"double_{n}", "double", "DoubleType", v)
case("text_empty", "text", "UTF8Type", "")
case("text_ascii", "text", "UTF8Type", "hello, world")
case("text_unicode", "text", "UTF8Type", "h\u00e9llo w\u00f6rld \u2713 \u65e5\u672c\u8a9e \U0001f980")
case("text_nul", "text", "UTF8Type", "a\x00b")
case("ascii_empty", "ascii", "AsciiType", "")
case("ascii_printable", "ascii", "AsciiType", "Hello ~ 123 \x7f")
case("blob_empty", "blob", "BytesType", b"")
case("blob_bytes", "blob", "BytesType", bytes([0, 1, 0x7F, 0x80, 0xFE, 0xFF]))
for n, v in [
    ("zero", 0),
    ("one", 1),
    ("minus_one", -1),
    ("127", 127),
    ("128", 128),
    ("minus_128", -128),
    ("minus_129", -129),
    ("255", 255),
    ("256", 256),
    ("minus_256", -256),
    ("two_pow_64", 2**64),
    ("minus_two_pow_64", -(2**64)),
    ("i128_max", 2**127 - 1),
    ("i128_min", -(2**127)),
    ("two_pow_200", 2**200),
]:
    case(f"varint_{n}", "varint", "IntegerType", v)
for n, v in [
    ("zero", "0"),
    ("one_and_a_half", "1.5"),
    ("minus_thousandth", "-0.001"),
    ("big", "123456789012345678901234567890.123456789"),
    ("negative_scale", "1E+10"),
    ("minus_128_scale_0", "-128"),
    ("tiny", "1E-30"),
]:
    case(f"decimal_{n}", "decimal", "DecimalType", Decimal(v), f"Decimal('{v}')")
for n, v in [
    ("zero", Duration(0, 0, 0)),
    ("small", Duration(1, 2, 3)),
    ("negative", Duration(-1, -2, -3)),
    ("extremes", Duration(2**31 - 1, -(2**31), 2**63 - 1)),
    ("min", Duration(-(2**31), -(2**31), -(2**63))),
    ("one_hour_thirty", Duration(0, 0, 5_400_000_000_000)),
]:
    case(
        f"duration_{n}",
        "duration",
        "DurationType",
        v,
        f"Duration(months={v.months}, days={v.days}, nanoseconds={v.nanoseconds})",
    )
for n, v in [
    ("epoch", datetime.date(1970, 1, 1)),
    ("leap_day", datetime.date(2024, 2, 29)),
    ("before_epoch", datetime.date(1969, 12, 31)),
    ("year_1", datetime.date(1, 1, 1)),
    ("year_9999", datetime.date(9999, 12, 31)),
]:
    case(f"date_{n}", "date", "SimpleDateType", v)
case("date_raw_min", "date", "SimpleDateType", 0, "raw 0 (2^31 days before the epoch)")
case("date_raw_max", "date", "SimpleDateType", 2**32 - 1, "raw 2^32 - 1")
for n, v in [
    ("midnight", Time(0)),
    ("noon_micros", Time(datetime.time(12, 34, 56, 789012))),
    ("last_nanosecond", Time(86_399_999_999_999)),
]:
    case(f"time_{n}", "time", "TimeType", v, f"Time(nanoseconds={v.nanosecond_time})")
for n, v in [
    ("epoch", datetime.datetime(1970, 1, 1)),
    ("millis", datetime.datetime(2024, 1, 2, 3, 4, 5, 678000)),
    ("before_epoch", datetime.datetime(1969, 12, 31, 23, 59, 59)),
]:
    case(f"timestamp_{n}", "timestamp", "TimestampType", v, f"{v.isoformat()}Z")
for n, v in [("min_millis", -(2**63)), ("max_millis", 2**63 - 1), ("minus_one", -1)]:
    case(f"timestamp_{n}", "timestamp", "TimestampType", v, f"{v} ms")
for n, v in [
    ("v4_loopback", "127.0.0.1"),
    ("v4_zero", "0.0.0.0"),
    ("v4_broadcast", "255.255.255.255"),
    ("v6_loopback", "::1"),
    ("v6_doc", "2001:db8::8a2e:370:7334"),
    ("v6_mapped_v4", "::ffff:1.2.3.4"),
]:
    case(f"inet_{n}", "inet", "InetAddressType", v)
case("uuid_nil", "uuid", "UUIDType", uuid.UUID(int=0))
case("uuid_max", "uuid", "UUIDType", uuid.UUID(int=2**128 - 1))
case("uuid_v4", "uuid", "UUIDType", UUID_B)
case("timeuuid_v1", "timeuuid", "TimeUUIDType", UUID_A)
case("int_null", "int", "Int32Type", None)
case("text_null", "text", "UTF8Type", None)

# --- collections (sets and maps in sorted order, see the module comment)
case("list_int_empty", "list<int>", "ListType(Int32Type)", [])
case("list_int", "list<int>", "ListType(Int32Type)", [1, -2, 2**31 - 1])
case("list_text_unicode", "list<text>", "ListType(UTF8Type)", ["", "\u00e9", "\U0001f980"])
case("set_int_empty", "set<int>", "SetType(Int32Type)", [])
case("set_int", "set<int>", "SetType(Int32Type)", [-5, 0, 7])
case("set_text", "set<text>", "SetType(UTF8Type)", ["a", "b", "c"])
case("set_text_one", "set<text>", "SetType(UTF8Type)", ["only"])
case("map_text_int_empty", "map<text, int>", "MapType(UTF8Type, Int32Type)", {})
case("map_text_int", "map<text, int>", "MapType(UTF8Type, Int32Type)", {"a": 1, "b": -1})
case("map_text_int_one", "map<text, int>", "MapType(UTF8Type, Int32Type)", {"k": 42})
case(
    "map_int_bigint",
    "map<int, bigint>",
    "MapType(Int32Type, LongType)",
    {-1: 2**63 - 1, 0: 0, 1: -(2**63)},
)
case(
    "list_uuid",
    "list<uuid>",
    "ListType(UUIDType)",
    [uuid.UUID(int=0), UUID_B],
)
case(
    "list_inet",
    "list<inet>",
    "ListType(InetAddressType)",
    ["10.0.0.1", "fe80::1"],
)

# --- nested and frozen collections
case(
    "list_frozen_list_int",
    "list<frozen<list<int>>>",
    "ListType(FrozenType(ListType(Int32Type)))",
    [[1, 2], [], [3]],
)
case(
    "set_frozen_list_text",
    "set<frozen<list<text>>>",
    "SetType(FrozenType(ListType(UTF8Type)))",
    [["a"], ["a", "b"], ["b"]],
)
case(
    "map_frozen_set_text_list_int",
    "map<frozen<set<text>>, list<int>>",
    "MapType(FrozenType(SetType(UTF8Type)), ListType(Int32Type))",
    {("x",): [1], ("x", "y"): [2, 3]},
    "{frozenset({'x'}): [1], frozenset({'x', 'y'}): [2, 3]}",
)
case(
    "map_int_frozen_map_text_list_bigint",
    "map<int, frozen<map<text, frozen<list<bigint>>>>>",
    "MapType(Int32Type, FrozenType(MapType(UTF8Type, FrozenType(ListType(LongType)))))",
    {1: {"a": [1, 2], "b": []}, 2: {}},
)
case(
    "map_frozen_tuple_int_text_double",
    "map<frozen<tuple<int, text>>, double>",
    "MapType(FrozenType(TupleType(Int32Type, UTF8Type)), DoubleType)",
    {(1, "a"): 0.5, (2, "b"): -2.0},
)

# --- tuples
case("tuple_int_text", "tuple<int, text>", "TupleType(Int32Type, UTF8Type)", (1, "one"))
case(
    "tuple_with_null",
    "tuple<int, text, boolean>",
    "TupleType(Int32Type, UTF8Type, BooleanType)",
    (7, None, True),
)
case(
    "tuple_nested",
    "tuple<bigint, frozen<list<text>>, tuple<smallint, blob>>",
    "TupleType(LongType, FrozenType(ListType(UTF8Type)), TupleType(ShortType, BytesType))",
    (-1, ["x", "y"], (3, b"\x01\x02")),
)
case(
    "tuple_of_eight",
    "tuple<tinyint, smallint, int, bigint, float, double, boolean, text>",
    "TupleType(ByteType, ShortType, Int32Type, LongType, FloatType, DoubleType, BooleanType, UTF8Type)",
    (1, 2, 3, 4, 5.5, 6.25, False, "8"),
)

# --- user-defined types
case(
    "udt_address",
    "ks.address",
    ADDRESS,
    ("1 Main St", 12345, ["home", "work"]),
    "address(street='1 Main St', zip=12345, tags={'home', 'work'})",
)
case(
    "udt_address_nulls",
    "ks.address",
    ADDRESS,
    (None, 0, None),
    "address(street=None, zip=0, tags=None)",
)
case(
    "list_frozen_udt",
    "list<frozen<ks.address>>",
    T.ListType.apply_parameters([T.FrozenType.apply_parameters([ADDRESS])]),
    [("a", 1, ["x"]), ("b", 2, [])],
    "[address(street='a', zip=1, tags={'x'}), address(street='b', zip=2, tags=set())]",
)
case(
    "udt_nested",
    "ks.person",
    PERSON,
    ("Ada", ("1 Main St", 1, ["home"]), [("Old Rd", 2, [])], None),
    "person(name='Ada', home=address('1 Main St', 1, {'home'}), "
    "past=[address('Old Rd', 2, set())], nick=None)",
)


def encode(driver_type, value):
    buf = io.BytesIO()
    binary = None if value is None else driver_type.to_binary(value, PROTOCOL_VERSION)
    write_value(buf, binary)
    return buf.getvalue().hex()


def main():
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} OUTPUT.json")
    names = [c[0] for c in CASES]
    if len(names) != len(set(names)):
        sys.exit("duplicate case names")
    vectors = [
        {
            "name": name,
            "cql": cql,
            "driver_type": driver_type.cass_parameterized_type(full=False)
            if not issubclass(driver_type, T.UserType)
            else f"UserType({driver_type.keyspace}.{driver_type.typename})",
            "value": description,
            "hex": encode(driver_type, value),
        }
        for name, cql, driver_type, value, description in CASES
    ]
    doc = {
        "about": "CQL values as the DataStax Python driver binds them at protocol v4: "
        "each hex is one [value] (int32 length, then the bytes; ffffffff is null).",
        "generator": "xtask/python/golden.py",
        "regenerate": "cargo xtask golden",
        "driver": f"cassandra-driver {cassandra.__version__}",
        "python": sys.version.split()[0],
        "protocol_version": PROTOCOL_VERSION,
        "vectors": vectors,
    }
    with open(sys.argv[1], "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {len(vectors)} vectors to {sys.argv[1]}")


if __name__ == "__main__":
    main()
