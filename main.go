// Command ringout is the RingOut dialer: a web app that places RingCentral RingOut calls
// from the browser and shows both legs live. With no RingCentral app configured it runs in
// demo mode on its embedded simulator. `ringout sim` runs the simulator alone.
//
// This file is only the entry point: signals and the exit code. The app is in package app.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/ringout-dialer/ringout/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app.Run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "ringout:", err)
		os.Exit(1)
	}
}
