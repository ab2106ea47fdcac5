//! `settings.bootstrap`: what `bootstrap` sets up beyond what every file needs.

use super::super::types::{AccountRef, BootstrapSettings, UseCaseForm};
use super::{BOOTSTRAP_KEYS, Kind, Node, USE_CASE_KEYS};

impl super::Walker {
    /// `settings.bootstrap`.
    pub(super) fn bootstrap(&mut self, node: &Node) -> Option<BootstrapSettings> {
        let mut out = BootstrapSettings::default();
        let entries: &[(Node, Node)] = match &node.kind {
            Kind::Map(entries) => entries,
            _ if super::is_null(node) => return Some(out),
            _ => {
                self.type_error(node, "settings.bootstrap", "a mapping");
                return None;
            }
        };
        let fields = self.fields(entries, BOOTSTRAP_KEYS, "in `settings.bootstrap`", &|_| {
            None
        });
        let before = self.diags.len();
        if let Some((_, v)) = fields.get("delegated_administrator")
            && !super::is_null(v)
        {
            let path = "settings.bootstrap.delegated_administrator";
            match self.account_ref(v, path) {
                Some(AccountRef::Id(id)) => out.delegated_administrator = Some(id),
                Some(AccountRef::Name(name)) => self.error_hint(
                    v.span,
                    format!("`{path}` must be an account id, not the name `{name}`"),
                    "write the 12-digit id of the member account, quoted",
                ),
                None => {}
            }
        }
        if let Some((_, v)) = fields.get("anthropic_use_case")
            && !super::is_null(v)
        {
            out.anthropic_use_case = self.use_case(v);
        }
        (self.diags.len() == before).then_some(out)
    }

    /// `settings.bootstrap.anthropic_use_case`: every field a string, all but
    /// `other_industry_option` given and not empty.
    fn use_case(&mut self, node: &Node) -> Option<UseCaseForm> {
        let path = "settings.bootstrap.anthropic_use_case";
        let Kind::Map(entries) = &node.kind else {
            self.type_error(node, path, "a mapping");
            return None;
        };
        let fields = self.fields(entries, USE_CASE_KEYS, &format!("in `{path}`"), &|_| None);
        let mut values = Vec::with_capacity(USE_CASE_KEYS.len());
        for key in USE_CASE_KEYS {
            let text = match fields.get(key) {
                Some((_, v)) => self.string(v, &format!("{path}.{key}")).map(str::to_owned),
                None => Some(String::new()),
            };
            let text = text?;
            if text.trim().is_empty() && *key != "other_industry_option" {
                self.error_hint(
                    node.span,
                    format!("`{path}.{key}` is missing or empty"),
                    "the form is sent to Anthropic as written; bootstrap invents nothing",
                );
                return None;
            }
            values.push(text);
        }
        let mut v = values.into_iter();
        let mut next = || v.next().unwrap_or_default();
        Some(UseCaseForm {
            company_name: next(),
            company_website: next(),
            intended_users: next(),
            industry_option: next(),
            other_industry_option: next(),
            use_cases: next(),
        })
    }
}

#[cfg(test)]
mod tests {
    const MODELS: &str = "models:\n  m:\n    product_sku: prod-x\n    grant_to:\n      accounts: [\"111111111111\"]\n";

    /// Parses `settings.bootstrap` written as `section`: the delegated administrator, or the
    /// error messages.
    fn check(section: &str, expect: Result<Option<&str>, &str>) {
        let text = format!("version: 1\nsettings:\n  bootstrap:\n{section}{MODELS}");
        match (crate::config::parse(&text), expect) {
            (Ok(c), Ok(want)) => assert_eq!(
                c.settings
                    .bootstrap
                    .delegated_administrator
                    .as_ref()
                    .map(|a| a.as_str()),
                want,
                "{section}"
            ),
            (Err(diags), Err(piece)) => {
                let all: Vec<String> = diags.iter().map(|d| d.message.clone()).collect();
                assert!(
                    all.iter().any(|m| m.contains(piece)),
                    "{all:?} lack {piece:?}"
                );
            }
            (got, want) => panic!("{section}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn the_delegated_administrator_is_an_account_id() {
        check(
            "    delegated_administrator: \"222222222222\"\n",
            Ok(Some("222222222222")),
        );
        check(
            "    delegated_administrator: 222222222222\n",
            Ok(Some("222222222222")),
        );
        check("    delegated_administrator: null\n", Ok(None));
        check("    {}\n", Ok(None));
        check(
            "    delegated_administrator: licensing\n",
            Err("must be an account id, not the name `licensing`"),
        );
        check("    delegated_administrator: \"2222\"\n", Err("2222"));
        check(
            "    delegated_admin: \"222222222222\"\n",
            Err("delegated_admin"),
        );
    }
}
