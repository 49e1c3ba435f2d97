//! The committed `schema.graphql` is what the code serves, and documents itself.

#[test]
fn schema_graphql_equals_the_served_schema() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .expect("schema.graphql is committed");
    assert!(
        committed == authql::graphql::sdl(),
        "schema.graphql is out of date: run `cargo run -- schema > schema.graphql`"
    );
}

#[test]
fn every_type_field_and_argument_has_a_description() {
    let sdl = authql::graphql::sdl();
    let lines: Vec<&str> = sdl.lines().collect();
    let mut in_schema_block = false;
    let mut in_description = false;
    for (i, line) in lines.iter().enumerate() {
        if line.trim() == "\"\"\"" {
            in_description = !in_description;
            continue;
        }
        if in_description {
            continue;
        }
        if line.starts_with("schema {") {
            in_schema_block = true;
        }
        if in_schema_block {
            in_schema_block = !line.starts_with('}');
            continue;
        }
        let trimmed = line.trim_start();
        let declares_type = [
            "type ",
            "input ",
            "scalar ",
            "enum ",
            "interface ",
            "union ",
        ]
        .iter()
        .any(|keyword| line.starts_with(keyword));
        let declares_field = line.starts_with('\t')
            && trimmed.starts_with(|c: char| c.is_ascii_alphabetic())
            && (trimmed.contains(':') || trimmed.ends_with('('));
        if declares_type || declares_field {
            assert!(
                i > 0 && lines[i - 1].trim() == "\"\"\"",
                "no description for: {}",
                line.trim()
            );
        }
    }
}
