//! DESCRIBE / DESC, built client-side from the session's schema metadata (Amazon Keyspaces
//! runs no DESCRIBE on the server), printed in cqlsh 6.x's layout of Cassandra 5.0's
//! server-side DESCRIBE.

use cql4_schema::describe::{self, Element};
use cql4_schema::{ident, Keyspace, Schema};

use crate::error::CliError;
use crate::session::Session;

/// What a DESCRIBE statement asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Cluster,
    Schema {
        full: bool,
    },
    Keyspaces,
    Keyspace(Option<String>),
    Tables,
    Table(Name),
    Types,
    Type(Name),
    Index(Name),
    View(Name),
    Functions,
    Function(Name),
    Aggregates,
    Aggregate(Name),
    /// `DESCRIBE name`: a keyspace, else a table, index or view of the current keyspace.
    Any(Name),
}

/// `[keyspace.]name`, case folded unless quoted.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Name {
    keyspace: Option<String>,
    name: String,
}

/// Runs a DESCRIBE statement: the text to print.
pub(crate) fn run(session: &Session, statement: &str) -> Result<String, CliError> {
    let target = parse(statement).map_err(CliError::Failed)?;
    let inner = session.inner();
    let schema = session
        .runtime()
        .block_on(inner.schema())
        .map_err(|e| CliError::Failed(e.to_string()))?;
    render(&schema, inner.keyspace().as_deref(), &target).map_err(CliError::Failed)
}

fn render(schema: &Schema, current: Option<&str>, target: &Target) -> Result<String, String> {
    let keyspace = |name: Option<&str>| -> Result<&Keyspace, String> {
        let name = name
            .or(current)
            .ok_or("No keyspace specified and no current keyspace")?;
        schema
            .keyspace(name)
            .ok_or_else(|| format!("'{name}' not found in keyspaces"))
    };
    let of = |n: &Name| keyspace(n.keyspace.as_deref());
    let elements: Vec<Element> = match target {
        Target::Cluster => return Ok(cluster(schema)),
        Target::Keyspaces => {
            let names: Vec<String> = keyspaces_in_order(schema)
                .map(|k| ident::quote(&k.name))
                .collect();
            return Ok(format!("\n{}\n", columnize(&names, 80)));
        }
        Target::Tables | Target::Types | Target::Functions | Target::Aggregates => {
            return Ok(lists(schema, current, target));
        }
        Target::Schema { full } => keyspaces_in_order(schema)
            .filter(|k| *full || !k.is_system())
            .flat_map(describe::keyspace_elements)
            .collect(),
        Target::Keyspace(name) => describe::keyspace_elements(keyspace(name.as_deref())?),
        Target::Table(n) => {
            let ks = of(n)?;
            let table = ks
                .tables
                .get(&n.name)
                .ok_or_else(|| format!("Table '{}' not found in keyspace '{}'", n.name, ks.name))?;
            describe::table_elements(ks, table)
        }
        Target::Type(n) => {
            let ks = of(n)?;
            let t = ks.types.get(&n.name).ok_or_else(|| {
                format!("User defined type '{}' not found in '{}'", n.name, ks.name)
            })?;
            vec![describe::type_element(t)]
        }
        Target::Index(n) => {
            let ks = of(n)?;
            let index = ks
                .index(&n.name)
                .ok_or_else(|| format!("Index '{}' not found in '{}'", n.name, ks.name))?;
            vec![describe::index_element(index)]
        }
        Target::View(n) => {
            let ks = of(n)?;
            let view = ks.views.get(&n.name).ok_or_else(|| {
                format!("Materialized view '{}' not found in '{}'", n.name, ks.name)
            })?;
            vec![describe::view_element(view)]
        }
        Target::Function(n) => {
            let ks = of(n)?;
            let found: Vec<Element> = ks
                .functions
                .iter()
                .filter(|f| f.name == n.name)
                .map(describe::function_element)
                .collect();
            if found.is_empty() {
                return Err(format!(
                    "User defined function '{}' not found in '{}'",
                    n.name, ks.name
                ));
            }
            found
        }
        Target::Aggregate(n) => {
            let ks = of(n)?;
            let found: Vec<Element> = ks
                .aggregates
                .iter()
                .filter(|a| a.name == n.name)
                .map(describe::aggregate_element)
                .collect();
            if found.is_empty() {
                return Err(format!(
                    "User defined aggregate '{}' not found in '{}'",
                    n.name, ks.name
                ));
            }
            found
        }
        Target::Any(n) => {
            if n.keyspace.is_none() {
                if let Some(ks) = schema.keyspace(&n.name) {
                    return Ok(statements(&describe::keyspace_elements(ks)));
                }
            }
            let ks_name = n.keyspace.as_deref().or(current).unwrap_or(&n.name);
            let ks = schema
                .keyspace(ks_name)
                .ok_or_else(|| format!("'{ks_name}' not found in keyspaces"))?;
            if let Some(t) = ks.tables.get(&n.name) {
                describe::table_elements(ks, t)
            } else if let Some(i) = ks.index(&n.name) {
                vec![describe::index_element(i)]
            } else if let Some(v) = ks.views.get(&n.name) {
                vec![describe::view_element(v)]
            } else {
                return Err(format!("'{}' not found in keyspace '{}'", n.name, ks.name));
            }
        }
    };
    Ok(statements(&elements))
}

/// Each statement after an empty line, as cqlsh prints the rows of a DESCRIBE.
fn statements(elements: &[Element]) -> String {
    let mut out = String::new();
    for e in elements {
        out.push('\n');
        out.push_str(&e.create_statement);
        out.push('\n');
    }
    out
}

/// Keyspaces as the server lists them: by name, case aside.
fn keyspaces_in_order(schema: &Schema) -> impl Iterator<Item = &Keyspace> {
    let mut all: Vec<&Keyspace> = schema.keyspaces.values().collect();
    all.sort_by_cached_key(|k| (k.name.to_lowercase(), k.name.clone()));
    all.into_iter()
}

/// `DESCRIBE TABLES|TYPES|FUNCTIONS|AGGREGATES`: names in columns, under a heading per
/// keyspace when none is current (the current keyspace's only otherwise).
fn lists(schema: &Schema, current: Option<&str>, target: &Target) -> String {
    let mut out = String::new();
    for ks in keyspaces_in_order(schema).filter(|k| current.is_none_or(|c| c == k.name)) {
        let names: Vec<String> = match target {
            Target::Tables => describe::tables_in_order(ks)
                .into_iter()
                .map(|t| ident::quote(&t.name))
                .collect(),
            Target::Types => describe::types_by_dependency(ks)
                .into_iter()
                .map(|t| ident::quote(&t.name))
                .collect(),
            Target::Functions => ks
                .functions
                .iter()
                .map(|f| describe::function_element(f).name)
                .collect(),
            _ => ks
                .aggregates
                .iter()
                .map(|a| describe::aggregate_element(a).name)
                .collect(),
        };
        if names.is_empty() {
            continue;
        }
        out.push('\n');
        if current.is_none() {
            let heading = format!("Keyspace {}", ks.name);
            out.push_str(&heading);
            out.push('\n');
            out.push_str(&"-".repeat(heading.len()));
            out.push('\n');
        }
        out.push_str(&columnize(&names, 80));
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

fn cluster(schema: &Schema) -> String {
    let partitioner = schema.partitioner.as_deref().unwrap_or("");
    let partitioner = partitioner
        .strip_prefix("org.apache.cassandra.dht.")
        .unwrap_or(partitioner);
    format!(
        "\nCluster: {}\nPartitioner: {partitioner}\n\n",
        schema.cluster_name.as_deref().unwrap_or("")
    )
}

/// Python's `cmd.Cmd.columnize` (what cqlsh uses): the fewest rows whose columns, two spaces
/// apart, fit `width`; filled column by column; each line ends with a newline.
fn columnize(items: &[String], width: usize) -> String {
    if items.is_empty() {
        return "<empty>\n".to_owned();
    }
    if items.len() == 1 {
        return format!("{}\n", items[0]);
    }
    let size = items.len();
    let len = |i: usize| items.get(i).map_or(0, |s| s.chars().count());
    let mut layout = (size, 1, vec![0]);
    for rows in 1..size {
        let cols = size.div_ceil(rows);
        let widths: Vec<usize> = (0..cols)
            .map(|c| (0..rows).map(|r| len(r + rows * c)).max().unwrap_or(0))
            .collect();
        let total = widths.iter().sum::<usize>() + 2 * (cols - 1);
        if total <= width {
            layout = (rows, cols, widths);
            break;
        }
    }
    let (rows, cols, widths) = layout;
    let mut out = String::new();
    for r in 0..rows {
        let mut texts: Vec<&str> = (0..cols)
            .map(|c| items.get(r + rows * c).map_or("", String::as_str))
            .collect();
        while texts.last().is_some_and(|t| t.is_empty()) {
            texts.pop();
        }
        let line: Vec<String> = texts
            .iter()
            .enumerate()
            .map(|(c, t)| format!("{t:<w$}", w = widths.get(c).copied().unwrap_or(0)))
            .collect();
        out.push_str(&line.join("  "));
        out.push('\n');
    }
    out
}

// ---- parsing ----

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// An unquoted word (as typed).
    Word(String),
    /// A double-quoted identifier (unquoted).
    Quoted(String),
    Dot,
}

fn tokens(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() || c == ';' {
            chars.next();
        } else if c == '.' {
            chars.next();
            out.push(Token::Dot);
        } else if c == '"' {
            chars.next();
            let mut name = String::new();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        name.push('"');
                    }
                    Some('"') => break,
                    Some(ch) => name.push(ch),
                    None => return Err("unterminated quoted name in DESCRIBE".to_owned()),
                }
            }
            out.push(Token::Quoted(name));
        } else {
            let mut word = String::new();
            while let Some(&ch) = chars.peek() {
                if ch.is_whitespace() || ch == '.' || ch == ';' || ch == '"' {
                    break;
                }
                word.push(ch);
                chars.next();
            }
            out.push(Token::Word(word));
        }
    }
    Ok(out)
}

fn is_word(t: Option<&Token>, word: &str) -> bool {
    matches!(t, Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
}

/// `[ks.]name` from the tokens; unquoted parts fold to lower case, as CQL folds them.
fn name(tokens: &[Token]) -> Result<Name, String> {
    let part = |t: &Token| match t {
        Token::Word(w) => Ok(w.to_lowercase()),
        Token::Quoted(q) => Ok(q.clone()),
        Token::Dot => Err("unexpected '.' in DESCRIBE".to_owned()),
    };
    match tokens {
        [n] => Ok(Name {
            keyspace: None,
            name: part(n)?,
        }),
        [k, Token::Dot, n] => Ok(Name {
            keyspace: Some(part(k)?),
            name: part(n)?,
        }),
        [] => Err("DESCRIBE: a name is missing".to_owned()),
        _ => Err("DESCRIBE: expected [keyspace.]name".to_owned()),
    }
}

fn parse(statement: &str) -> Result<Target, String> {
    let tokens = tokens(statement)?;
    let rest = match tokens.first() {
        Some(Token::Word(w))
            if w.eq_ignore_ascii_case("describe") || w.eq_ignore_ascii_case("desc") =>
        {
            tokens.get(1..).unwrap_or_default()
        }
        _ => return Err("not a DESCRIBE statement".to_owned()),
    };
    let first = rest.first();
    let after = |n: usize| rest.get(n..).unwrap_or_default();
    let alone = |t: Target| {
        if rest.len() == 1 {
            Ok(t)
        } else {
            Err("DESCRIBE: unexpected text after the object kind".to_owned())
        }
    };
    Ok(match first {
        None => return Err("DESCRIBE what? (KEYSPACES, TABLES, SCHEMA, TABLE t, …)".to_owned()),
        _ if is_word(first, "full") && is_word(rest.get(1), "schema") && rest.len() == 2 => {
            Target::Schema { full: true }
        }
        _ if is_word(first, "schema") => alone(Target::Schema { full: false })?,
        _ if is_word(first, "cluster") => alone(Target::Cluster)?,
        _ if is_word(first, "keyspaces") => alone(Target::Keyspaces)?,
        _ if is_word(first, "tables") || is_word(first, "columnfamilies") => alone(Target::Tables)?,
        _ if is_word(first, "types") => alone(Target::Types)?,
        _ if is_word(first, "functions") => alone(Target::Functions)?,
        _ if is_word(first, "aggregates") => alone(Target::Aggregates)?,
        _ if is_word(first, "keyspace") => match after(1) {
            [] => Target::Keyspace(None),
            t => {
                let n = name(t)?;
                if n.keyspace.is_some() {
                    return Err("DESCRIBE KEYSPACE: expected a keyspace name".to_owned());
                }
                Target::Keyspace(Some(n.name))
            }
        },
        _ if is_word(first, "table") || is_word(first, "columnfamily") => {
            Target::Table(name(after(1))?)
        }
        _ if is_word(first, "type") => Target::Type(name(after(1))?),
        _ if is_word(first, "index") => Target::Index(name(after(1))?),
        _ if is_word(first, "materialized") && is_word(rest.get(1), "view") => {
            Target::View(name(after(2))?)
        }
        _ if is_word(first, "function") => Target::Function(name(after(1))?),
        _ if is_word(first, "aggregate") => Target::Aggregate(name(after(1))?),
        _ => Target::Any(name(rest)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(keyspace: Option<&str>, name: &str) -> Name {
        Name {
            keyspace: keyspace.map(str::to_owned),
            name: name.to_owned(),
        }
    }

    #[test]
    fn parses_every_form() {
        for (text, target) in [
            ("DESCRIBE KEYSPACES", Target::Keyspaces),
            ("desc keyspaces;", Target::Keyspaces),
            ("DESCRIBE FULL SCHEMA", Target::Schema { full: true }),
            ("DESCRIBE SCHEMA", Target::Schema { full: false }),
            ("DESCRIBE CLUSTER", Target::Cluster),
            ("DESCRIBE KEYSPACE", Target::Keyspace(None)),
            ("DESCRIBE KEYSPACE Ks", Target::Keyspace(Some("ks".into()))),
            ("DESCRIBE TABLES", Target::Tables),
            (
                "DESCRIBE TABLE ks.\"MixedCase\"",
                Target::Table(n(Some("ks"), "MixedCase")),
            ),
            ("DESC TYPE addr", Target::Type(n(None, "addr"))),
            ("DESCRIBE INDEX ks.i", Target::Index(n(Some("ks"), "i"))),
            (
                "DESCRIBE MATERIALIZED VIEW ks.v;",
                Target::View(n(Some("ks"), "v")),
            ),
            ("DESCRIBE FUNCTIONS", Target::Functions),
            (
                "DESCRIBE AGGREGATE ks.avg",
                Target::Aggregate(n(Some("ks"), "avg")),
            ),
            ("DESCRIBE Users", Target::Any(n(None, "users"))),
            (
                "DESCRIBE \"Say \"\"hi\"\"\"",
                Target::Any(n(None, "Say \"hi\"")),
            ),
        ] {
            assert_eq!(parse(text), Ok(target), "{text}");
        }
        for bad in [
            "DESCRIBE",
            "DESCRIBE TABLE",
            "DESCRIBE KEYSPACES x",
            "DESCRIBE a.b.c",
            "DESCRIBE \"open",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn columnize_is_pythons() {
        // What Python's cmd.Cmd().columnize prints for the same lists.
        let ks = names(&[
            "schema_probe",
            "system",
            "system_auth",
            "system_distributed",
            "system_schema",
            "system_traces",
            "system_views",
            "system_virtual_schema",
        ]);
        assert_eq!(
            columnize(&ks, 80),
            "schema_probe  system_auth         system_schema  system_views         \n\
             system        system_distributed  system_traces  system_virtual_schema\n"
        );
        assert_eq!(columnize(&names(&["a", "b"]), 80), "a  b\n");
        assert_eq!(columnize(&names(&["only"]), 80), "only\n");
        assert_eq!(columnize(&[], 80), "<empty>\n");
        let wide = names(&[&"x".repeat(50), &"y".repeat(50)]);
        assert_eq!(
            columnize(&wide, 80),
            format!("{}\n{}\n", "x".repeat(50), "y".repeat(50))
        );
    }

    #[test]
    fn unknown_names_are_one_line_errors() {
        let schema = Schema::default();
        assert_eq!(
            render(&schema, None, &Target::Any(n(None, "nosuch"))),
            Err("'nosuch' not found in keyspaces".to_owned())
        );
        assert_eq!(
            render(&schema, None, &Target::Keyspace(None)),
            Err("No keyspace specified and no current keyspace".to_owned())
        );
        assert_eq!(
            render(&schema, None, &Target::Table(n(Some("ks"), "t"))),
            Err("'ks' not found in keyspaces".to_owned())
        );
    }
}
