//! Elastic Load Balancing v2 adapter: target health of endpoint services' NLBs (issue 4).
