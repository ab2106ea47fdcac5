//! The desired-state file: the corpus of broken files (snapshots of every diagnostic with its
//! line and column), the example, the schema, the round trip through `to_yaml`, and property
//! tests that no input makes the parser panic.

use std::path::PathBuf;

use bedrock_entitlements::cli::{LoadError, load_config};
use bedrock_entitlements::config::{
    self, AccountRef, ActivationOverride, Config, DesiredStatus, LicenseSelector, OuRef, Settings,
};
use bedrock_entitlements::model::{Diagnostic, Span};
use proptest::prelude::*;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn corpus_dir() -> PathBuf {
    root().join("tests/corpus")
}

fn render(file: &str, diags: &[Diagnostic]) -> String {
    diags
        .iter()
        .map(|d| d.display(file).to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The diagnostics of a source that must be invalid, rendered as `validate` shows them.
fn errors(source: &str) -> String {
    match config::parse(source) {
        Ok(c) => panic!("expected diagnostics, the file parsed: {c:#?}"),
        Err(d) => render("entitlements.yaml", &d),
    }
}

fn ok(source: &str) -> Config {
    match config::parse(source) {
        Ok(c) => c,
        Err(d) => panic!(
            "expected a valid file, got:\n{}",
            render("entitlements.yaml", &d)
        ),
    }
}

/// The config with every position reset, to compare configs read from different texts.
fn without_spans(c: &Config) -> Config {
    let mut c = c.clone();
    for m in &mut c.models {
        m.key.span = Span::default();
        m.license.span = Span::default();
        if m.grant_to.organization.is_some() {
            m.grant_to.organization = Some(Span::default());
        }
        for o in &mut m.grant_to.organizational_units {
            o.span = Span::default();
        }
        for a in m
            .grant_to
            .accounts
            .iter_mut()
            .chain(m.except_accounts.iter_mut())
        {
            a.span = Span::default();
        }
        for id in &mut m.bedrock_model_ids {
            id.span = Span::default();
        }
        if let Some(p) = &mut m.marketplace_product_id {
            p.span = Span::default();
        }
    }
    c
}

// ---------------------------------------------------------------------------------------------
// The corpus: one broken file per problem class, each snapshot-tested with exact positions.

macro_rules! corpus {
    ($($name:ident),* $(,)?) => {
        const CORPUS: &[&str] = &[$(stringify!($name)),*];
        mod corpus {
            $(
                #[test]
                fn $name() {
                    super::check_corpus_file(stringify!($name));
                }
            )*
        }
    };
}

corpus! {
    account_lost_leading_zero,
    account_wrong_length,
    bad_activation_override,
    bad_home_region,
    bad_license_arn,
    bad_model_key,
    bad_ou,
    bad_recipient_role,
    bad_status,
    duplicate_account,
    duplicate_key,
    duplicate_model,
    empty,
    empty_prefix,
    except_also_granted,
    five_problems,
    merge_key,
    misplaced_key,
    missing_models,
    missing_version,
    negative_max_deletes,
    no_license_selector,
    no_target,
    not_a_mapping,
    same_license_twice,
    several_license_selectors,
    tab_indent,
    two_documents,
    unknown_operation,
    unknown_settings_key,
    unknown_top_key,
    unsupported_version,
    wrong_types,
    yaml_syntax,
}

fn check_corpus_file(name: &str) {
    let file = format!("{name}.yaml");
    let path = corpus_dir().join(&file);
    let source = std::fs::read_to_string(&path).expect("corpus file");
    let diags = match config::parse(&source) {
        Ok(c) => panic!("{file} parsed without diagnostics: {c:#?}"),
        Err(d) => d,
    };
    let mut sorted = diags.clone();
    sorted.sort();
    assert_eq!(diags, sorted, "diagnostics are sorted by position");
    let lines = source.lines().count().max(1) as u32;
    for d in &diags {
        assert!(
            d.span.line >= 1 && d.span.line <= lines + 1 && d.span.column >= 1,
            "{file}: diagnostic outside the file: {d:?}"
        );
        assert!(
            !d.message.ends_with('.'),
            "messages have no trailing period: {d:?}"
        );
    }
    insta::with_settings!({
        snapshot_path => "../corpus/snapshots",
        prepend_module_to_snapshot => false,
        input_file => path.clone(),
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name, render(&format!("tests/corpus/{file}"), &diags));
    });
}

#[test]
fn every_corpus_file_has_a_snapshot_test() {
    let mut on_disk: Vec<String> = std::fs::read_dir(corpus_dir())
        .expect("corpus dir")
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".yaml").map(str::to_owned)
        })
        .collect();
    on_disk.sort();
    let listed: Vec<String> = CORPUS.iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(
        on_disk, listed,
        "tests/corpus/*.yaml and the corpus! list differ"
    );
    assert!(listed.len() >= 20);
}

#[test]
fn the_five_problem_file_reports_five_problems_in_one_run() {
    let source = std::fs::read_to_string(corpus_dir().join("five_problems.yaml")).unwrap();
    let diags = config::parse(&source).unwrap_err();
    assert_eq!(diags.len(), 5, "{}", render("five_problems.yaml", &diags));
    let lines: Vec<u32> = diags.iter().map(|d| d.span.line).collect();
    assert_eq!(lines, [4, 5, 11, 15, 16]);
}

// ---------------------------------------------------------------------------------------------
// Valid files: defaults, typed targets, ordering.

const MINIMAL: &str =
    "version: 1\nmodels:\n  m:\n    product_sku: prod-x\n    grant_to:\n      organization: true\n";

#[test]
fn a_minimal_file_gets_every_default() {
    let c = ok(MINIMAL);
    assert_eq!(c.version, 1);
    assert_eq!(c.settings, Settings::default());
    assert_eq!(c.settings.home_region, "us-east-1");
    assert_eq!(c.settings.grant_name_prefix, "bedrock-entitlements");
    assert_eq!(c.settings.max_deletes, 10);
    assert_eq!(
        c.settings.allowed_operations.iter().collect::<Vec<_>>(),
        [
            "CheckInLicense",
            "CheckoutLicense",
            "CreateToken",
            "ExtendConsumptionLicense",
            "ListPurchasedLicenses"
        ]
    );
    let m = c.model("m").unwrap();
    assert_eq!(m.status, DesiredStatus::Active);
    assert_eq!(
        m.license.value,
        LicenseSelector::ProductSku("prod-x".into())
    );
    let org = m.grant_to.organization.expect("organization: true");
    assert_eq!((org.line, org.column), (6, 7));
}

#[test]
fn every_setting_is_read() {
    let c = ok("version: 1
settings:
  home_region: eu-central-1
  grant_name_prefix: team-a
  allowed_operations: [CheckoutLicense, CreateGrant]
  max_deletes: 0
  recipient_role: LicenseAcceptor
  activation_override: all_grants_permitted_by_issuer
models: {}
");
    let s = &c.settings;
    assert_eq!(s.home_region, "eu-central-1");
    assert_eq!(s.grant_name_prefix, "team-a");
    assert_eq!(
        s.allowed_operations.iter().collect::<Vec<_>>(),
        ["CheckoutLicense", "CreateGrant"]
    );
    assert_eq!(s.max_deletes, 0);
    assert_eq!(s.recipient_role.as_deref(), Some("LicenseAcceptor"));
    assert_eq!(
        s.activation_override,
        Some(ActivationOverride::AllGrantsPermittedByIssuer)
    );
    assert!(c.models.is_empty());
}

#[test]
fn targets_are_typed_and_positioned() {
    let c = ok(r#"version: 1
models:
  b-model:
    license_arn: arn:aws:license-manager::294406891311:license:l-0123456789abcdef0123456789abcdef
    grant_to:
      organizational_units: [ou-ab12-mlplatfm, Root/Workloads/ML, Root]
      accounts: [222233334444, "333344445555", ml-dev, '012345678901']
    except_accounts: [sandbox-alice]
    status: disabled
  a-model:
    product_name: Claude 3.5 Sonnet (Amazon Bedrock Edition)
    grant_to: {organization: true}
"#);
    // Models come sorted by key.
    let keys: Vec<&str> = c.models.iter().map(|m| m.key.value.as_str()).collect();
    assert_eq!(keys, ["a-model", "b-model"]);
    let b = c.model("b-model").unwrap();
    assert_eq!(b.status, DesiredStatus::Disabled);
    assert!(matches!(b.license.value, LicenseSelector::LicenseArn(_)));
    let ous: Vec<String> = b
        .grant_to
        .organizational_units
        .iter()
        .map(|o| match &o.value {
            OuRef::Id(id) => format!("id {id}"),
            OuRef::Path(p) => format!("path {p}"),
        })
        .collect();
    assert_eq!(
        ous,
        ["id ou-ab12-mlplatfm", "path Root/Workloads/ML", "path Root"]
    );
    let accounts: Vec<String> = b
        .grant_to
        .accounts
        .iter()
        .map(|a| match &a.value {
            AccountRef::Id(id) => format!("id {id}"),
            AccountRef::Name(n) => format!("name {n}"),
        })
        .collect();
    assert_eq!(
        accounts,
        [
            "id 222233334444",
            "id 333344445555",
            "name ml-dev",
            "id 012345678901"
        ]
    );
    let positions: Vec<(u32, u32)> = b
        .grant_to
        .accounts
        .iter()
        .map(|a| (a.span.line, a.span.column))
        .collect();
    assert_eq!(positions, [(7, 18), (7, 32), (7, 48), (7, 56)]);
    assert_eq!(
        b.except_accounts[0].value,
        AccountRef::Name("sandbox-alice".into())
    );
    assert_eq!((b.key.span.line, b.key.span.column), (3, 3));
    assert_eq!((b.license.span.line, b.license.span.column), (4, 18));
}

#[test]
fn problems_in_different_models_are_all_reported() {
    insta::assert_snapshot!(errors("version: 1
models:
  a:
    product_sku: prod-a
    grant_to: {accounts: [\"1\"]}
  b:
    product_sku: prod-b
    grant_to: {organizational_units: [ou-x]}
  c:
    product_sku: prod-c
    grant_to: {organization: maybe}
"), @r#"
    entitlements.yaml:5:27: error: account id "1" has 1 digit, expected 12
    entitlements.yaml:8:39: error: `ou-x` is not a valid OU id
      hint: expected ou-<4-32 lowercase letters or digits>-<8-32 lowercase letters or digits>
    entitlements.yaml:11:30: error: `models.c.grant_to.organization` must be true or false, found a string
    "#);
}

#[test]
fn unicode_positions_count_characters() {
    insta::assert_snapshot!(errors("version: 1\nmodels:\n  m:\n    product_name: \"Modèle\"\n    grant_to: {accounts: [ü]}\n"), @r#"
    entitlements.yaml:5:27: error: `ü` is not an account id or account name
      hint: an account id is 12 digits; an account name has at least one letter
    "#);
}

#[test]
fn yaml_tags_and_aliases() {
    // `!!str` makes a number a string; an alias reuses a list.
    let c = ok("version: 1
models:
  a:
    product_sku: !!str 12345
    grant_to:
      accounts: &team [\"222233334444\", \"333344445555\"]
  b:
    product_sku: prod-b
    grant_to:
      accounts: *team
");
    assert_eq!(
        c.model("a").unwrap().license.value,
        LicenseSelector::ProductSku("12345".into())
    );
    assert_eq!(c.model("b").unwrap().grant_to.accounts.len(), 2);
    insta::assert_snapshot!(errors("version: 1\nmodels: !custom {}\n"), @r"
    entitlements.yaml:2:9: error: unsupported YAML tag `!custom`
      hint: remove the tag; only `!!str` is useful in this file
    ");
    insta::assert_snapshot!(errors("version: 1\nmodels:\n  a: !!set x\n"), @r"
    entitlements.yaml:3:6: error: unsupported YAML tag `!!set`
      hint: remove the tag; only `!!str` is useful in this file
    ");
}

#[test]
fn bytes_that_are_not_utf8_are_one_positioned_diagnostic() {
    let diags = config::parse_bytes(b"version: 1\nmodels:\n  caf\xe9: {}\n").unwrap_err();
    assert_eq!(
        render("f.yaml", &diags),
        "f.yaml:3:6: error: the file is not valid UTF-8\n  hint: save the file as UTF-8"
    );
}

// ---------------------------------------------------------------------------------------------
// load()

#[test]
fn load_separates_io_errors_from_invalid_files() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.yaml");
    match load_config(&missing) {
        Err(LoadError::Io { path, .. }) => assert_eq!(path, missing),
        other => panic!("expected an I/O error, got {other:?}"),
    }

    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "version: 3\nmodels: {}\n").unwrap();
    match load_config(&bad) {
        Err(LoadError::Invalid(d)) => {
            assert_eq!(d.len(), 1);
            assert_eq!((d[0].span.line, d[0].span.column), (1, 10));
        }
        other => panic!("expected diagnostics, got {other:?}"),
    }

    let good = dir.path().join("good.yaml");
    std::fs::write(&good, MINIMAL).unwrap();
    let (c, source) = load_config(&good).unwrap();
    assert_eq!(source, MINIMAL);
    assert_eq!(c.models.len(), 1);
}

// ---------------------------------------------------------------------------------------------
// The example

#[test]
fn the_example_is_valid_and_shows_every_kind_of_target() {
    let path = root().join("examples/entitlements.yaml");
    let (c, source) = load_config(&path).expect("example is valid");

    let modeline = source.lines().next().unwrap();
    let schema_ref = modeline
        .strip_prefix("# yaml-language-server: $schema=")
        .expect("the example starts with the yaml-language-server modeline");
    assert!(
        path.parent().unwrap().join(schema_ref).is_file(),
        "the modeline's schema path {schema_ref} resolves to a file"
    );

    let keys: Vec<&str> = c.models.iter().map(|m| m.key.value.as_str()).collect();
    assert_eq!(
        keys,
        [
            "ai21-jamba",
            "claude-sonnet",
            "cohere-command",
            "stability-sdxl"
        ]
    );
    assert!(c.models.iter().any(|m| m.grant_to.organization.is_some()));
    assert!(
        c.models
            .iter()
            .any(|m| !m.grant_to.organizational_units.is_empty())
    );
    assert!(c.models.iter().any(|m| !m.grant_to.accounts.is_empty()));
    let exceptions: usize = c.models.iter().map(|m| m.except_accounts.len()).sum();
    assert_eq!(exceptions, 1);
}

// ---------------------------------------------------------------------------------------------
// The schema

#[test]
fn committed_schema_equals_the_generated_one() {
    let path = root().join("entitlements.schema.json");
    let generated = serde_json::to_string_pretty(&config::schema()).unwrap() + "\n";
    // UPDATE_SCHEMA=1 cargo test --test it schema  rewrites the committed file.
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).expect("schema file");
    assert!(
        committed == generated,
        "entitlements.schema.json is stale; regenerate it with `UPDATE_SCHEMA=1 cargo test --test it schema` (or `bedrock-entitlements schema > entitlements.schema.json`)"
    );
}

#[test]
fn the_schema_is_draft_07_and_closed() {
    let s = config::schema();
    assert_eq!(s["$schema"], "http://json-schema.org/draft-07/schema#");
    assert_eq!(s["additionalProperties"], false);
    assert_eq!(s["properties"]["settings"]["additionalProperties"], false);
    assert_eq!(s["definitions"]["model"]["additionalProperties"], false);
    assert_eq!(s["definitions"]["grant_to"]["additionalProperties"], false);
}

/// Each settings default in the schema, written into a file, reads back as the default.
#[test]
fn schema_defaults_are_the_parser_defaults() {
    let s = config::schema();
    let props = s["properties"]["settings"]["properties"]
        .as_object()
        .unwrap();
    for (key, prop) in props {
        let default = &prop["default"];
        // `allowed_sellers` and `bootstrap` have no default to write: absent means none.
        if prop.get("default").is_none() {
            assert!(
                key == "allowed_sellers" || key == "bootstrap",
                "{key} has no default"
            );
            continue;
        }
        assert!(
            !default.is_null() || key == "recipient_role" || key == "activation_override",
            "{key} defaults to null"
        );
        // JSON is YAML: the default can be written as it is.
        let source = format!("version: 1\nsettings:\n  {key}: {default}\nmodels: {{}}\n");
        let c = ok(&source);
        assert_eq!(c.settings, Settings::default(), "default of {key}");
    }
}

/// Every property the schema names is a key the parser knows, at the same place.
#[test]
fn schema_properties_are_keys_the_parser_knows() {
    let s = config::schema();
    let model_props: Vec<&String> = s["definitions"]["model"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    let grant_to_props: Vec<&String> = s["definitions"]["grant_to"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    for key in model_props {
        let source = format!(
            "version: 1\nmodels:\n  m:\n    {key}: 1\n    product_sku: p\n    grant_to: {{organization: true}}\n"
        );
        if let Err(d) = config::parse(&source) {
            assert!(
                !d.iter().any(|d| d.message.starts_with("unknown key")),
                "{key}: {}",
                render("f", &d)
            );
        }
    }
    for key in grant_to_props {
        let source =
            format!("version: 1\nmodels:\n  m:\n    product_sku: p\n    grant_to: {{{key}: 1}}\n");
        let d = config::parse(&source).unwrap_err();
        assert!(
            !d.iter().any(|d| d.message.starts_with("unknown key")),
            "{key}: {}",
            render("f", &d)
        );
    }
}

#[test]
fn the_configuration_reference_names_every_schema_property() {
    let doc = std::fs::read_to_string(root().join("docs/configuration.md")).expect("docs");
    let missing: Vec<String> = config::property_names(&config::schema())
        .into_iter()
        .filter(|p| !doc.contains(&format!("`{p}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/configuration.md does not name {missing:?}"
    );
}

/// The reference's complete example is a valid file (the docs do not rot).
#[test]
fn the_configuration_reference_example_is_valid() {
    let doc = std::fs::read_to_string(root().join("docs/configuration.md")).expect("docs");
    let example = doc
        .split("```yaml\n")
        .skip(1)
        .filter_map(|block| block.split("```").next())
        .find(|block| block.contains("version: 1"))
        .expect("a complete example in docs/configuration.md");
    let c = ok(example);
    assert_eq!(c.models.len(), 2);
}

// ---------------------------------------------------------------------------------------------
// to_yaml

#[test]
fn to_yaml_writes_a_canonical_file() {
    let c = ok("version: 1
settings: {max_deletes: 3, recipient_role: Acceptor, home_region: us-east-1}
models:
  zeta:
    product_name: 'Command R+: \"fast\"'
    grant_to: {accounts: [ml-dev, 012345678901, \"true\"]}
    except_accounts: [\"222233334444\"]
    status: disabled
  alpha:
    product_sku: prod-a
    grant_to:
      organization: true
      organizational_units: [Root/Workloads/ML, ou-ab12-mlplatfm]
"
    .replace("012345678901", "\"012345678901\"")
    .as_str());
    insta::assert_snapshot!(config::to_yaml(&c), @r#"
    # yaml-language-server: $schema=entitlements.schema.json
    version: 1
    settings:
      max_deletes: 3
      recipient_role: Acceptor
    models:
      alpha:
        product_sku: prod-a
        grant_to:
          organization: true
          organizational_units:
            - Root/Workloads/ML
            - ou-ab12-mlplatfm
      zeta:
        product_name: "Command R+: \"fast\""
        grant_to:
          accounts:
            - ml-dev
            - "012345678901"
            - "true"
        except_accounts:
          - "222233334444"
        status: disabled
    "#);
}

#[test]
fn to_yaml_of_the_example_reads_back_equal() {
    let (c, _) = load_config(&root().join("examples/entitlements.yaml")).unwrap();
    let written = config::to_yaml(&c);
    assert!(written.starts_with(config::MODELINE));
    let back = ok(&written);
    assert_eq!(without_spans(&back), without_spans(&c));
    // Canonical: writing again gives the same text.
    assert_eq!(config::to_yaml(&back), written);
}

#[test]
fn to_yaml_of_no_models() {
    let c = ok("version: 1\nmodels: {}\n");
    assert_eq!(
        config::to_yaml(&c),
        format!("{}\nversion: 1\nmodels: {{}}\n", config::MODELINE)
    );
}

// ---------------------------------------------------------------------------------------------
// Property tests

/// Every answer is a config or at least one diagnostic placed inside the text.
fn check_outcome(
    source: &str,
    result: Result<Config, Vec<Diagnostic>>,
) -> Result<(), TestCaseError> {
    if let Err(diags) = result {
        prop_assert!(!diags.is_empty(), "an invalid file without diagnostics");
        // YAML breaks lines at \n, \r\n and a lone \r.
        let lines = source.replace("\r\n", "\n").split(['\n', '\r']).count() as u32;
        for d in &diags {
            prop_assert!(d.span.line >= 1, "line 0: {d:?}");
            prop_assert!(d.span.column >= 1, "column 0: {d:?}");
            prop_assert!(d.span.line <= lines + 1, "after the end: {d:?}");
            prop_assert!(d.span.offset <= source.len(), "offset after the end: {d:?}");
            prop_assert!(!d.message.is_empty());
        }
    }
    Ok(())
}

fn scalar_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("111122223333".to_owned()),
        Just("\"012345678901\"".to_owned()),
        Just("012345678901".to_owned()),
        Just("12345".to_owned()),
        Just("ou-ab12-mlplatfm".to_owned()),
        Just("Root/Workloads".to_owned()),
        Just("true".to_owned()),
        Just("~".to_owned()),
        Just("-1".to_owned()),
        Just("1.5e3".to_owned()),
        Just("CheckoutLicense".to_owned()),
        Just("prod-x".to_owned()),
        Just("arn:aws:license-manager::294406891311:license:l-ab".to_owned()),
        Just("*x".to_owned()),
        Just("&x a".to_owned()),
        Just("!!str 1".to_owned()),
        Just("!foo x".to_owned()),
        Just("'it''s'".to_owned()),
        Just("|\n  text".to_owned()),
        "[a-z0-9 _:#{}\\[\\],'\"-]{0,12}",
    ]
}

fn key_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("version".to_owned()),
        Just("settings".to_owned()),
        Just("models".to_owned()),
        Just("max_deletes".to_owned()),
        Just("allowed_operations".to_owned()),
        Just("home_region".to_owned()),
        Just("recipient_role".to_owned()),
        Just("activation_override".to_owned()),
        Just("grant_name_prefix".to_owned()),
        Just("claude-sonnet".to_owned()),
        Just("product_sku".to_owned()),
        Just("product_name".to_owned()),
        Just("license_arn".to_owned()),
        Just("grant_to".to_owned()),
        Just("organization".to_owned()),
        Just("organizational_units".to_owned()),
        Just("accounts".to_owned()),
        Just("except_accounts".to_owned()),
        Just("status".to_owned()),
        "[A-Za-z_-]{1,8}",
    ]
}

/// A YAML-ish tree, written out as block or flow YAML.
#[derive(Debug, Clone)]
enum Doc {
    Scalar(String),
    List(Vec<Doc>),
    Map(Vec<(String, Doc)>),
}

fn doc_strategy() -> impl Strategy<Value = Doc> {
    let leaf = scalar_strategy().prop_map(Doc::Scalar);
    leaf.prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Doc::List),
            prop::collection::vec((key_strategy(), inner), 0..6).prop_map(Doc::Map),
        ]
    })
}

fn write_doc(doc: &Doc, indent: usize, flow: bool, out: &mut String) {
    let pad = " ".repeat(indent);
    match doc {
        Doc::Scalar(s) => out.push_str(s),
        Doc::List(items) if flow || items.is_empty() => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_doc(item, indent, true, out);
            }
            out.push(']');
        }
        Doc::Map(entries) if flow || entries.is_empty() => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push_str(": ");
                write_doc(v, indent, true, out);
            }
            out.push('}');
        }
        Doc::List(items) => {
            for item in items {
                out.push('\n');
                out.push_str(&pad);
                out.push_str("- ");
                write_doc(item, indent + 2, indent % 4 == 2, out);
            }
        }
        Doc::Map(entries) => {
            for (k, v) in entries {
                out.push('\n');
                out.push_str(&pad);
                out.push_str(k);
                out.push(':');
                if matches!(v, Doc::Scalar(_)) {
                    out.push(' ');
                }
                write_doc(v, indent + 2, false, out);
            }
        }
    }
}

proptest! {
    // 512 cases by default; PROPTEST_CASES=100000 for a long hunt.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(512),
        .. ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let result = config::parse_bytes(&bytes);
        let text = String::from_utf8_lossy(&bytes);
        check_outcome(&text, result)?;
    }

    #[test]
    fn arbitrary_text_never_panics(source in "(\\PC|[\\t\\n\\r :#&*!|>'\"\\[\\]{},-]){0,300}") {
        check_outcome(&source, config::parse(&source))?;
    }

    #[test]
    fn arbitrary_yaml_documents_never_panic(doc in doc_strategy(), prefix in prop::bool::ANY) {
        let mut source = String::new();
        if prefix {
            source.push_str("version: 1\nmodels:\n  m:");
            write_doc(&doc, 4, false, &mut source);
        } else {
            write_doc(&doc, 0, false, &mut source);
        }
        source.push('\n');
        check_outcome(&source, config::parse(&source))?;
    }

    /// Edits of the example (a character removed, a few inserted) still never panic.
    #[test]
    fn edited_examples_never_panic(
        at in 0usize..2000,
        remove in 0usize..4,
        insert in "[\\t\\n :#&*!|>'\"\\[\\]{},-]{0,3}",
    ) {
        let example = std::fs::read_to_string(root().join("examples/entitlements.yaml")).unwrap();
        let mut chars: Vec<char> = example.chars().collect();
        let at = at % chars.len();
        let end = (at + remove).min(chars.len());
        chars.splice(at..end, insert.chars());
        let source: String = chars.into_iter().collect();
        check_outcome(&source, config::parse(&source))?;
    }

    /// Whatever config the parser accepts, `to_yaml` writes a file it reads back equal.
    #[test]
    fn to_yaml_round_trips(doc in generated_config()) {
        let c = match config::parse(&doc) {
            Ok(c) => c,
            Err(d) => return Err(TestCaseError::fail(render("gen.yaml", &d))),
        };
        let written = config::to_yaml(&c);
        let back = config::parse(&written).map_err(|d| TestCaseError::fail(format!("{written}\n{}", render("out.yaml", &d))))?;
        prop_assert_eq!(without_spans(&back), without_spans(&c));
    }
}

/// A valid desired-state file with random settings and models.
fn generated_config() -> impl Strategy<Value = String> {
    let account = prop_oneof![
        "[1-9][0-9]{11}",
        "0[0-9]{11}".prop_map(|s| format!("\"{s}\"")),
        "[a-z][a-z0-9 ._-]{0,10}[a-z]".prop_map(|s| format!("\"{s}\"")),
    ];
    let ou = prop_oneof![
        "ou-[a-z0-9]{4}-[a-z0-9]{8}",
        "Root(/[A-Za-z0-9][A-Za-z0-9 ]{0,5}){0,3}".prop_map(|s| format!("\"{s}\"")),
    ];
    let model = (
        prop::bool::ANY,
        prop::collection::btree_set(ou, 0..3),
        prop::collection::btree_set(account.clone(), 0..4),
        prop::collection::btree_set(account, 0..2),
        prop::bool::ANY,
        "[A-Za-z0-9 :#'\"+()-]{1,20}",
    );
    (
        prop::collection::btree_map("[a-z0-9][a-z0-9-]{0,8}", model, 0..5),
        prop::option::of(0u32..100),
        prop::option::of("[a-z]{1,8}-[a-z]{1,5}"),
    )
        .prop_map(|(models, max_deletes, prefix)| {
            let mut s = String::from("version: 1\nsettings:\n");
            if let Some(n) = max_deletes {
                s.push_str(&format!("  max_deletes: {n}\n"));
            }
            if let Some(p) = prefix {
                s.push_str(&format!("  grant_name_prefix: {p}\n"));
            }
            s.push_str("models:\n");
            if models.is_empty() {
                s.push_str("  {}\n");
            }
            for (i, (key, (org, ous, accounts, except, disabled, name))) in
                models.into_iter().enumerate()
            {
                s.push_str(&format!("  {key}:\n"));
                s.push_str(&format!(
                    "    product_name: {}\n",
                    serde_json::Value::String(format!("{name} {i}"))
                ));
                s.push_str("    grant_to:\n");
                let org = org || (ous.is_empty() && accounts.is_empty());
                s.push_str(&format!("      organization: {org}\n"));
                let join = |v: &std::collections::BTreeSet<String>| {
                    v.iter().cloned().collect::<Vec<_>>().join(", ")
                };
                s.push_str(&format!("      organizational_units: [{}]\n", join(&ous)));
                s.push_str(&format!("      accounts: [{}]\n", join(&accounts)));
                let except: Vec<_> = except.difference(&accounts).cloned().collect();
                s.push_str(&format!("    except_accounts: [{}]\n", except.join(", ")));
                if disabled {
                    s.push_str("    status: disabled\n");
                }
            }
            s
        })
}
