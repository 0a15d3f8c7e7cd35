package store

// SchemaV1 is the schema as it shipped before note kinds (migration 1), for tests that
// build an old database.
var SchemaV1 = migrations[0].sql
