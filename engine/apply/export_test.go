package apply

// BuiltinGuards exposes the built-in cleanup guards to tests.
var BuiltinGuards = builtinGuards
