//! The pure planner: `plan(&Desired, &Live) -> Plan`, and `simulate(&Live, &Plan) -> Live`.

mod types;

pub use types::{AccessChange, Action, ActionKind, Note, NoteKind, Phase, Plan, TargetStatus};
