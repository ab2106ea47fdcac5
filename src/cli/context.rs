//! What every command shares: global options, colour decision, AWS connection.

use std::io::IsTerminal;

use super::GlobalArgs;

pub struct Context {
    pub global: GlobalArgs,
}

impl Context {
    pub fn new(global: GlobalArgs) -> Self {
        Context { global }
    }

    /// The config path as shown in messages.
    pub fn config_display(&self) -> String {
        self.global.config.display().to_string()
    }

    pub fn color(&self) -> bool {
        color_enabled(self.global.no_color)
    }
}

/// Colour only on a terminal, never with `--no-color` or `NO_COLOR` set (any value).
pub fn color_enabled(no_color_flag: bool) -> bool {
    !no_color_flag
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::io::stdout().is_terminal()
}
