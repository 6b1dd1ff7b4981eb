//! SKELETON(consumer): the KCL-compatible consumer (issue 19).
