//! Pure endpoint-connection decisions (issue 4).
