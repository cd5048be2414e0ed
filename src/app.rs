//! Wiring: opens the store, starts tasks and the server, and shuts them down in order.
