//! EC2 endpoint-service adapter: connections, permissions (issue 4).
