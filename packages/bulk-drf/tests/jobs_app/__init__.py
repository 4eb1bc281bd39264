"""A small app for the job-layer tests: gadgets owned by users, behind a scoped bulk viewset."""
