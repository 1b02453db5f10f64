#!/usr/bin/env python3
"""Generate CQL value vectors with the DataStax Python driver (cassandra-driver 3.30.x).

Each case is a CQL type, a value and the bytes `cassandra.cqltypes` serializes it to for
protocol v4. The Rust test `tests/vectors_types.rs` rebuilds the type and the value from the
JSON descriptions below, serializes them with cql4 and must produce the same bytes, and
decodes the bytes back to the same value.

Type description (JSON): a simple type is its CQL name ("int", "text", ...); otherwise
  {"list": T} | {"set": T} | {"map": [K, V]} | {"tuple": [T, ...]}
  | {"udt": {"keyspace": ks, "name": n, "fields": [[name, T], ...]}}

Value description, read according to the type:
  ascii/text: string; boolean: bool; tinyint..bigint/counter: integer; float/double: the
  Python repr as a string ("1.5", "nan", "inf"); varint: decimal string; decimal:
  {"scale": s, "unscaled": "digits"}; blob: hex; uuid/timeuuid: 32 hex digits; inet: the
  address; date: the raw unsigned day number (epoch at 2^31); time: nanoseconds; timestamp:
  milliseconds; duration: [months, days, nanoseconds]; list/set: array; map: array of
  [key, value]; tuple: array (null for null); udt: array of [field, value or null];
  null: null.

Optional "display" is Python's str() of the value where cql4's Display uses the same format
(varint, decimal, date, time); the Rust test compares them too.

Run: target/venv/bin/python tests/vectors/python/gen_types.py > tests/vectors/python/types/values.json
"""

import decimal
import ipaddress
import json
import sys
import uuid

import cassandra
from cassandra import cqltypes as c
from cassandra.util import Date, Duration, Time

PROTOCOL = 4

SIMPLE = {
    "ascii": c.AsciiType,
    "bigint": c.LongType,
    "blob": c.BytesType,
    "boolean": c.BooleanType,
    "counter": c.CounterColumnType,
    "decimal": c.DecimalType,
    "double": c.DoubleType,
    "float": c.FloatType,
    "int": c.Int32Type,
    "timestamp": c.DateType,
    "uuid": c.UUIDType,
    "text": c.UTF8Type,
    "varint": c.IntegerType,
    "timeuuid": c.TimeUUIDType,
    "inet": c.InetAddressType,
    "date": c.SimpleDateType,
    "time": c.TimeType,
    "smallint": c.ShortType,
    "tinyint": c.ByteType,
    "duration": c.DurationType,
}


def pytype(spec):
    """The cassandra.cqltypes class for a type description."""
    if isinstance(spec, str):
        return SIMPLE[spec]
    (kind, arg), = spec.items()
    if kind == "list":
        return c.ListType.apply_parameters([pytype(arg)])
    if kind == "set":
        return c.SetType.apply_parameters([pytype(arg)])
    if kind == "map":
        return c.MapType.apply_parameters([pytype(arg[0]), pytype(arg[1])])
    if kind == "tuple":
        return c.TupleType.apply_parameters([pytype(t) for t in arg])
    if kind == "udt":
        return c.UserType.make_udt_class(
            arg["keyspace"], arg["name"],
            tuple(f for f, _ in arg["fields"]),
            tuple(pytype(t) for _, t in arg["fields"]))
    raise ValueError(spec)


def pyvalue(spec, v):
    """The Python value the driver serializes, from a value description."""
    if v is None:
        return None
    if isinstance(spec, str):
        if spec in ("float", "double"):
            return float(v)
        if spec == "varint":
            return int(v)
        if spec == "decimal":
            u = int(v["unscaled"])
            digits = tuple(int(d) for d in str(abs(u)))
            return decimal.Decimal((1 if u < 0 else 0, digits, -v["scale"]))
        if spec == "blob":
            return bytes.fromhex(v)
        if spec in ("uuid", "timeuuid"):
            return uuid.UUID(hex=v)
        if spec == "date":
            return Date(v - 2 ** 31)
        if spec == "time":
            return Time(v)
        if spec == "duration":
            return Duration(*v)
        return v
    (kind, arg), = spec.items()
    if kind == "list":
        return [pyvalue(arg, x) for x in v]
    if kind == "set":
        # A list keeps the wire order stable (the driver accepts any iterable for a set).
        return [pyvalue(arg, x) for x in v]
    if kind == "map":
        return {pyvalue(arg[0], k): pyvalue(arg[1], x) for k, x in v}
    if kind == "tuple":
        return tuple(pyvalue(t, x) for t, x in zip(arg, v))
    if kind == "udt":
        values = dict(v)
        return tuple(pyvalue(t, values.get(f)) for f, t in arg["fields"])
    raise ValueError(spec)


CASES = []


def case(name, spec, value):
    CASES.append((name, spec, value))


# Simple types, with edge values.
for v in [0, 1, -1, 127, -128]:
    case(f"tinyint {v}", "tinyint", v)
for v in [0, 32767, -32768]:
    case(f"smallint {v}", "smallint", v)
for v in [0, 1, -1, 2 ** 31 - 1, -2 ** 31]:
    case(f"int {v}", "int", v)
for v in [0, 2 ** 63 - 1, -2 ** 63]:
    case(f"bigint {v}", "bigint", v)
    case(f"counter {v}", "counter", v)
for v in ["0.0", "-0.0", "1.5", "3.4028234663852886e+38", "1e-45", "inf", "-inf"]:
    case(f"float {v}", "float", v)
for v in ["0.0", "-2.5", "0.1", "1.7976931348623157e+308", "5e-324", "inf", "-inf"]:
    case(f"double {v}", "double", v)
case("boolean true", "boolean", True)
case("boolean false", "boolean", False)
case("ascii", "ascii", "hello world ~")
case("ascii empty", "ascii", "")
case("text", "text", "h\u00e9llo \u2603 \U0001F600")
case("text empty", "text", "")
case("blob", "blob", "00ff10cafe")
case("blob empty", "blob", "")
case("uuid", "uuid", "123e4567e89b42d3a456426614174000")
case("timeuuid", "timeuuid", "5f1a8b80d2a011ee8c99a8a159c5c9b4")
case("inet v4", "inet", "192.168.1.20")
case("inet v6", "inet", "2001:db8::ff00:42:8329")
for v in [0, 2 ** 31, 2 ** 31 + 11016, 2 ** 31 - 1, 2 ** 32 - 1]:
    case(f"date {v}", "date", v)
for v in [0, 1, 86399999999999, 45296789012345]:
    case(f"time {v}", "time", v)
for v in [0, -1, 1591742511123, 253402300799999, -62135596800000]:
    case(f"timestamp {v}", "timestamp", v)
for v in [[0, 0, 0], [1, -1, 1000], [14, 3, 3600000000001], [-2, -3, -4],
          [2 ** 31 - 1, -2 ** 31, 2 ** 63 - 1], [0, 0, -2 ** 63]]:
    case(f"duration {v}", "duration", v)

# varint: the spec's table, i128 extremes and numbers past i128.
for v in [0, 1, 127, 128, 129, -1, -128, -129, 2 ** 63, -2 ** 63 - 1,
          2 ** 127 - 1, -2 ** 127, 2 ** 127, -2 ** 127 - 1, 2 ** 128, 10 ** 40, -10 ** 40,
          int("9" * 100), -int("123456789" * 12)]:
    case(f"varint {v}", "varint", str(v))

# decimal: scale and unscaled combinations.
for unscaled, scale in [(0, 0), (0, 2), (0, -3), (12345, 2), (-12345, 2), (1, 7), (-1, 3),
                        (1, -3), (123, 10), (2 ** 127, 5), (-10 ** 40, 20), (7, -2 ** 31),
                        (int("9" * 60), 2 ** 31 - 1)]:
    case(f"decimal {unscaled}e{-scale}", "decimal", {"scale": scale, "unscaled": str(unscaled)})

# Collections and nesting.
case("list<int>", {"list": "int"}, [1, 2, 3])
case("list<int> empty", {"list": "int"}, [])
case("set<text>", {"set": "text"}, ["a", "b"])
case("map<text, int>", {"map": ["text", "int"]}, [["a", 1], ["b", -2]])
case("map<text, list<int>>", {"map": ["text", {"list": "int"}]}, [["a", [1, 2]], ["b", []]])
case("list<frozen<map<int, set<text>>>>", {"list": {"map": ["int", {"set": "text"}]}},
     [[[1, ["x"]], [2, []]], []])
case("map<uuid, frozen<list<varint>>>", {"map": ["uuid", {"list": "varint"}]},
     [["00000000000000000000000000000001", [str(2 ** 130), "-5"]]])
case("list<decimal>", {"list": "decimal"},
     [{"scale": 3, "unscaled": "-1"}, {"scale": -2, "unscaled": "15"}])
case("list<duration>", {"list": "duration"}, [[1, 2, 3], [-1, 0, -5]])
case("set<date>", {"set": "date"}, [0, 2 ** 31, 2 ** 32 - 1])
case("list<blob>", {"list": "blob"}, ["", "00", "ffff"])
case("list<inet>", {"list": "inet"}, ["127.0.0.1", "::1"])

# Tuples, with nulls.
case("tuple<int, text>", {"tuple": ["int", "text"]}, [1, "a"])
case("tuple<int, text> with null", {"tuple": ["int", "text"]}, [None, "a"])
case("tuple<bigint, frozen<list<text>>, boolean>",
     {"tuple": ["bigint", {"list": "text"}, "boolean"]}, [5, ["x", "y"], None])
case("tuple of tuples", {"tuple": [{"tuple": ["int", "int"]}, "timestamp"]}, [[1, 2], 99])

# UDTs, nested and with nulls.
ADDRESS = {"udt": {"keyspace": "ks", "name": "address",
                   "fields": [["street", "text"], ["zip", "int"], ["tags", {"set": "text"}]]}}
case("udt address", ADDRESS, [["street", "Main"], ["zip", 12345], ["tags", ["home"]]])
case("udt address with nulls", ADDRESS, [["street", None], ["zip", 1], ["tags", None]])
PERSON = {"udt": {"keyspace": "ks", "name": "person",
                  "fields": [["name", "text"], ["home", ADDRESS],
                             ["phones", {"map": ["text", {"list": "text"}]}]]}}
case("udt person with nested udt", PERSON,
     [["name", "Ann"], ["home", [["street", "Elm"], ["zip", None], ["tags", []]]],
      ["phones", [["work", ["1", "2"]]]]])
case("list<frozen<address>>", {"list": ADDRESS},
     [[["street", "a"], ["zip", 1], ["tags", ["t"]]]])
case("map<text, frozen<tuple<int, address>>>",
     {"map": ["text", {"tuple": ["int", ADDRESS]}]},
     [["k", [3, [["street", "s"], ["zip", 2], ["tags", None]]]]])


def main():
    out = []
    for name, spec, value in CASES:
        ty = pytype(spec)
        pv = pyvalue(spec, value)
        raw = ty.to_binary(pv, PROTOCOL)
        # The driver must read its own bytes back (sanity check of the description).
        back = ty.from_binary(raw, PROTOCOL)
        entry = {"name": name, "type": spec, "value": value, "hex": raw.hex()}
        if isinstance(spec, str):
            shown = None
            if spec in ("varint", "decimal", "time"):
                shown = str(back)
            elif spec == "date" and 1 <= (value - 2 ** 31) + 719163 <= 3652059:
                shown = str(back)
            if shown is not None:
                entry["display"] = shown
        out.append(entry)
    json.dump({"generator": "cassandra-driver " + cassandra.__version__,
               "protocol_version": PROTOCOL, "cases": out}, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
