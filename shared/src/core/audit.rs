//! The pure drift audit (issue 5).
