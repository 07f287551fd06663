//! S3 adapter: report objects (issue 5).
