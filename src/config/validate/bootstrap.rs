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
