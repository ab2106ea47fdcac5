//! `settings.bootstrap`: what `bootstrap` sets up beyond what every file needs.

use super::super::types::{AccountRef, BootstrapSettings};
use super::{BOOTSTRAP_KEYS, Kind, Node};

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
        (self.diags.len() == before).then_some(out)
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
