//! An in-memory License Manager + Organizations speaking AWS JSON 1.1. Models AWS as documented;
//! knows nothing of the planner.
