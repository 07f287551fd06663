//! drift-auditor orchestration (issue 5).
