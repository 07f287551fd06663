//! endpoint-approver orchestration (issue 4).
