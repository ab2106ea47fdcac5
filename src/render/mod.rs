//! Text, Markdown and JSON views of plans, drift and reports. Owns every output type.
