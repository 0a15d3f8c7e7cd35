// Package pgtest gives tests a fresh PostgreSQL database of their own on the server named
// by RINGOUT_TEST_DATABASE_URL (scripts/pg-test-server starts a throwaway one; .ci/run does).
// Without it the test is skipped, saying why; in CI (CI set) it fails instead. NewDatabase
// is the same for a program (the load command) on any server it is given.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvVar names the server the PostgreSQL tests use.
const EnvVar = "RINGOUT_TEST_DATABASE_URL"

// Require returns RINGOUT_TEST_DATABASE_URL, the server the tests may use; without it the
// test is skipped (in CI it fails). A test that starts a PostgreSQL server of its own (with
// scripts/pg-test-server) asks it too: the same variable says PostgreSQL is there to test.
func Require(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(EnvVar)
	if admin == "" {
		const why = EnvVar + " is not set: no PostgreSQL server for this test " +
			"(eval \"$(scripts/pg-test-server start)\" starts a throwaway one)"
		if os.Getenv("CI") != "" {
			t.Fatal(why)
		}
		t.Skip(why)
	}
	return admin
}

// URL returns the URL of a new, empty database, dropped when the test ends.
func URL(t testing.TB) string {
	t.Helper()
	admin := Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	u, drop, err := NewDatabase(ctx, admin, "ringout_test_")
	if err != nil {
		t.Fatalf("%s: %v", EnvVar, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := drop(ctx); err != nil {
			t.Error(err)
		}
	})
	return u
}

// NewDatabase creates an empty database named prefix + random hex on the server of the
// admin URL (connected to as given), and returns its URL and a function that drops it
// (disconnecting whoever is still connected).
func NewDatabase(ctx context.Context, admin, prefix string) (string, func(context.Context) error, error) {
	u, err := url.Parse(admin)
	if err != nil {
		return "", nil, err
	}
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", nil, err
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	name := prefix + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+name+` TEMPLATE template0`); err != nil {
		return "", nil, fmt.Errorf("create database: %w", err)
	}
	drop := func(ctx context.Context) error {
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			return fmt.Errorf("drop database %s: %w", name, err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			return fmt.Errorf("drop database %s: %w", name, err)
		}
		return nil
	}
	u.Path = "/" + name
	return u.String(), drop, nil
}
