package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/driver"
)

// apiKeyOut is one key as the command prints it (JSON, like the API).
type apiKeyOut struct {
	KeyID           string    `json:"key_id"`
	ApplicationName string    `json:"application_name"`
	Description     string    `json:"description,omitempty"`
	CreatedAt       time.Time `json:"created_at"`
	Key             string    `json:"key,omitempty"`
}

// runAPIKey manages per-application API keys directly in the store, the
// same keys the API's /api/keys manages: every server over the store sees
// a change at once.
func runAPIKey(ctx context.Context, args []string, std stdio) error {
	fs := newFlagSet("apikey", "Manage per-application API keys in the store:\n"+
		"  sessionkit apikey create --application NAME [--description TEXT] [flags]   prints the key, once\n"+
		"  sessionkit apikey list [flags]\n"+
		"  sessionkit apikey revoke [flags] KEY_ID\n"+
		"A key reads and writes the sessions of its application through the API (Authorization: Bearer <key>).\n"+
		"The store keeps only its SHA-256.", std.err)
	var (
		bf          backendFlags
		lf          logFlags
		application = fs.String("application", "", "create: the application whose sessions the key opens")
		description = fs.String("description", "", "create: what the key is for")
	)
	bf.register(fs, "", "backend")
	lf.register(fs)
	action := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		action, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	rest := fs.Args() // revoke's KEY_ID
	switch {
	case action == "create" && len(rest) == 0 && *application != "":
	case action == "list" && len(rest) == 0:
	case action == "revoke" && len(rest) == 1:
	default:
		fs.Usage()
		return fmt.Errorf("%w: want create --application NAME, list, or revoke KEY_ID", errUsage)
	}
	log, err := lf.logger(std.err)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	repo, _, err := bf.open(ctx, log)
	if err != nil {
		return err
	}
	defer repo.Close()
	ks, ok := repo.(session.APIKeyStore)
	if !ok {
		return fmt.Errorf("%T keeps no API keys: %w", repo, errors.ErrUnsupported)
	}
	enc := json.NewEncoder(std.out)
	enc.SetIndent("", "  ")
	switch action {
	case "create":
		key, k, err := driver.NewAPIKey(*application, *description, time.Now())
		if err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		if err := ks.CreateAPIKey(ctx, k); err != nil {
			return err
		}
		fmt.Fprintln(std.err, "The key is shown this once; the store keeps only its hash.")
		return enc.Encode(apiKeyOut{KeyID: k.ID, ApplicationName: k.ApplicationName, Description: k.Description, CreatedAt: k.CreatedAt, Key: key})
	case "list":
		keys, err := ks.ListAPIKeys(ctx)
		if err != nil {
			return err
		}
		out := make([]apiKeyOut, len(keys))
		for i, k := range keys {
			out[i] = apiKeyOut{KeyID: k.ID, ApplicationName: k.ApplicationName, Description: k.Description, CreatedAt: k.CreatedAt}
		}
		return enc.Encode(out)
	default:
		if err := ks.DeleteAPIKey(ctx, rest[0]); err != nil {
			return err
		}
		fmt.Fprintf(std.err, "revoked %s\n", rest[0])
		return nil
	}
}
