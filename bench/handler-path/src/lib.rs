//! Nothing but the `handler_path` benchmark (`benches/`): see its header.
