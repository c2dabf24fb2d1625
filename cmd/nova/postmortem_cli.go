package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/novasre/nova"
	"github.com/novasre/nova/postmortem"
	"github.com/novasre/nova/store"
)

const postmortemDetail = "Prints the latest version of an incident's postmortem draft from the configured store (on bolt,\nstop Nova first), as Markdown (default) or JSON. The same draft is served by\nGET /api/v1/incidents/{id}/postmortem. Exit 1 when there is no draft for the incident."

// cmdPostmortem prints an incident's postmortem draft.
func cmdPostmortem(ctx context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlags("postmortem")
	path := configFlag(fs)
	format := fs.String("format", "md", "md (Markdown) or json")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 || strings.TrimSpace(rest[0]) == "" {
		return usageError{"give one PagerDuty incident id (see 'nova help postmortem')"}
	}
	if *format != "md" && *format != "json" {
		return usageError{fmt.Sprintf("unknown --format %q: use md or json", *format)}
	}
	_, st, err := openConfigStore(ctx, *path)
	if err != nil {
		return err
	}
	defer st.Close()
	id := strings.TrimSpace(rest[0])
	// The stored record is the draft with Nova's bookkeeping beside it.
	d, _, err := store.Load[postmortem.Draft](ctx, st, store.KindPostmortem, id)
	if nova.IsCode(err, nova.ENOTFOUND) {
		return nova.Errorf(nova.ENOTFOUND, "no postmortem draft for incident %s (drafts are written when an incident of an enabled service is resolved, on the enterprise tier)", id)
	}
	if err != nil {
		return err
	}
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(d)
	}
	_, err = io.WriteString(stdout, postmortem.Markdown(d))
	return err
}
