//! SKELETON(producer): the KPL-compatible producer (issue 19).
