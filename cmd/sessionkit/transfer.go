package main

import (
	"context"
	"errors"
)

func runExport(ctx context.Context, args []string, std stdio) error {
	return errors.New("not yet")
}

func runImport(ctx context.Context, args []string, std stdio) error {
	return errors.New("not yet")
}
