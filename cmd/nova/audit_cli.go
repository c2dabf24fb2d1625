package main

import (
	"bufio"
	"context"
	"crypto/hmac"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/render"
	"github.com/novasre/nova/config"
)

// cmdAuditVerify checks the audit log's chain, in the store or in an
// export file. In the store: every entry's hash (the HMAC under the audit
// key it names, when keyed), the links, that no plain entry follows a keyed
// one, and that the log still reaches every anchor witnessed outside Nova:
// --anchor SEQ:HASH, or the heads in Nova's notes on --incident ENV:ID,
// read from PagerDuty with the scoped client (GET only).
func cmdAuditVerify(ctx context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlags("audit verify")
	path := configFlag(fs)
	file := fs.String("file", "", "check this JSON-lines export (from nova audit export) instead of the store; - for stdin")
	gaps := fs.Bool("allow-gaps", false, "with --file: accept missing sequence numbers (an export filtered with --incident)")
	var anchorArgs, incidentArgs listFlag
	fs.Var(&anchorArgs, "anchor", "`SEQ:HASH` of a chain head witnessed outside Nova (repeatable)")
	fs.Var(&incidentArgs, "incident", "`ENV:INCIDENT` whose Nova notes in PagerDuty carry chain heads to check (repeatable)")
	if rest, err := parseFlags(fs, args); err != nil {
		return err
	} else if err := noPositional(fs, rest); err != nil {
		return err
	}
	var anchors []nova.AuditAnchor
	for _, s := range anchorArgs {
		a, err := nova.ParseAuditAnchor(s, "--anchor")
		if err != nil {
			return usageError{nova.ErrorMessage(err)}
		}
		anchors = append(anchors, a)
	}
	if *file != "" {
		if len(incidentArgs) > 0 {
			return usageError{"--incident reads the store's environments: use --anchor with --file"}
		}
		// The configuration is optional offline: it only supplies the audit
		// keys that keyed entries are checked with.
		var keys []*nova.AuditKey
		if flagSet(fs, "config") {
			cfg, err := config.Load(*path)
			if err != nil {
				return err
			}
			_, keys = cfg.AuditKeys()
		}
		return verifyExportFile(*file, *gaps, keys, anchors, stdout)
	}
	cfg, st, err := openConfigStore(ctx, *path)
	if err != nil {
		return err
	}
	defer st.Close()
	var rt *runtime
	if len(incidentArgs) > 0 {
		rt = newRuntime(cfg, st, quietLogger(), prometheus.NewRegistry())
		rt.onRefused = func(string, string, string) {} // the client only reads
	}
	for _, s := range incidentArgs {
		found, err := anchorsFromPagerDuty(ctx, rt, s)
		if err != nil {
			return err
		}
		if len(found) == 0 {
			fmt.Fprintf(stdout, "note: incident %s has no Nova note with an audit chain head\n", s)
		}
		anchors = append(anchors, found...)
	}
	_, keys := cfg.AuditKeys()
	v := nova.NewChainVerifier(keys, anchors)
	var after int64
	for {
		page, err := st.ListAudit(ctx, after, 1000)
		if err != nil {
			return err
		}
		if i, why := v.Add(page); i >= 0 {
			fmt.Fprintf(stdout, "audit log FAILED verification after %d good entries: %s\n", v.Entries, why)
			return exitError(exitFailure)
		}
		if len(page) == 0 {
			break
		}
		after = page[len(page)-1].Seq
	}
	if why := v.Finish(); why != "" {
		fmt.Fprintf(stdout, "audit log FAILED verification (%d entries checked): %s\n", v.Entries, why)
		return exitError(exitFailure)
	}
	fmt.Fprintf(stdout, "audit log OK: %d entries, chain intact, head %s\n", v.Entries, orDash(v.Head().Anchor()))
	if v.Keyed() {
		var ids []string
		for id, n := range v.PerKey {
			ids = append(ids, fmt.Sprintf("%s (%d)", id, n))
		}
		sort.Strings(ids)
		fmt.Fprintf(stdout, "keyed: entries from seq %d on are sealed with HMAC-SHA256 under audit key %s", v.FirstKeyed, strings.Join(ids, ", "))
		if v.Unkeyed > 0 {
			fmt.Fprintf(stdout, "; the %d earlier entries are on the plain chain, bound by the first keyed entry", v.Unkeyed)
		}
		fmt.Fprintln(stdout)
	} else {
		fmt.Fprintln(stdout, "UNKEYED: no audit.key is configured, so this is a plain SHA-256 chain that anyone who can write to the store "+
			"can rewrite and recompute; configure audit.key (README: Trust boundary and audit) and check anchors.")
	}
	if len(anchors) == 0 {
		fmt.Fprintln(stdout, "no anchors checked: a truncated tail cannot be detected without one; pass --incident ENV:ID "+
			"(an incident with a recent Nova note) or --anchor SEQ:HASH")
	} else {
		fmt.Fprintf(stdout, "anchors: the log reaches and matches all %d witnessed head(s)\n", v.AnchorsChecked)
	}
	return nil
}

// anchorsFromPagerDuty reads the chain heads in Nova's notes on one
// incident ("ENV:ID"), through the environment's scoped client.
func anchorsFromPagerDuty(ctx context.Context, rt *runtime, ref string) ([]nova.AuditAnchor, error) {
	env, id, ok := strings.Cut(ref, ":")
	if !ok || env == "" || id == "" {
		return nil, fmt.Errorf("--incident %q is not ENV:INCIDENT_ID (e.g. prod:Q1ABC2DEF)", ref)
	}
	pd, err := rt.PagerDuty(env)
	if err != nil {
		return nil, err
	}
	notes, err := pd.ListNotes(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("read the notes of %s incident %s: %w", env, id, err)
	}
	var out []nova.AuditAnchor
	for _, n := range notes {
		if a, ok := render.AuditAnchorInNote(n.Content, fmt.Sprintf("PagerDuty note %s on %s incident %s", n.ID, env, id)); ok {
			out = append(out, a)
		}
	}
	return out, nil
}

// listFlag collects a repeatable flag's values.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	*l = append(*l, s)
	return nil
}

// verifyExportFile checks a JSON-lines export offline. Every entry's hash
// must match its content (the HMAC under its audit key for keyed entries,
// so keys come from --config), sequence numbers must increase without gaps
// (unless allowGaps, for an export filtered by incident), entries with
// consecutive numbers must link by hash, no plain entry may follow a keyed
// one, and every anchor inside the export's range must match. An export
// that starts at the first entry is so checked as a whole chain. Entries
// cut from the end cannot be seen offline without an anchor beyond them:
// the head printed is to be compared with `nova audit verify --config`'s.
func verifyExportFile(path string, allowGaps bool, keys []*nova.AuditKey, anchors []nova.AuditAnchor, stdout io.Writer) error {
	var r io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	byID := map[string]*nova.AuditKey{}
	for _, k := range keys {
		if k != nil {
			byID[k.ID()] = k
		}
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	var (
		prev                       *nova.AuditEntry
		n, gaps, linkChecks, keyed int
		firstKeyed, first          int64
		line, anchorsChecked       int
	)
	fail := func(format string, a ...any) error {
		fmt.Fprintf(stdout, "audit export %s FAILED verification at line %d (after %d good entries): %s\n", path, line, n, fmt.Sprintf(format, a...))
		return exitError(exitFailure)
	}
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		var e nova.AuditEntry
		dec := json.NewDecoder(strings.NewReader(text))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			if line == 1 && strings.HasPrefix(text, "seq,") {
				return fmt.Errorf("%s is a CSV export; only JSON-lines exports (--format jsonl) carry what verification needs", path)
			}
			return fail("not an audit entry: %v", err)
		}
		name := fmt.Sprintf("entry %s (seq %d)", e.ID, e.Seq)
		if e.KeyID == "" {
			if firstKeyed > 0 {
				return fail("%s is on the plain (unkeyed) chain after keyed entries since seq %d: it was rewritten without the audit key", name, firstKeyed)
			}
			if e.ComputeHash() != e.Hash {
				return fail("entry %s was altered: its hash does not match its content", e.ID)
			}
		} else {
			k, ok := byID[e.KeyID]
			switch {
			case !ok:
				return fail("%s is keyed with audit key %s: give --config with audit.key (or audit.previous_keys) holding it", name, e.KeyID)
			case !hmac.Equal([]byte(e.ComputeMAC(k)), []byte(e.Hash)):
				return fail("entry %s was altered: its keyed hash (HMAC-SHA256 under audit key %s) does not match its content", e.ID, e.KeyID)
			}
			if firstKeyed == 0 {
				firstKeyed = e.Seq
			}
			keyed++
		}
		if prev == nil {
			first = e.Seq
			if e.Seq == 1 && e.PrevHash != "" {
				return fail("entry %s is the first of the log but names a previous hash", e.ID)
			}
		} else {
			switch {
			case e.Seq <= prev.Seq:
				return fail("entry %s has seq %d after seq %d (entries out of order or repeated)", e.ID, e.Seq, prev.Seq)
			case e.Seq == prev.Seq+1:
				if e.PrevHash != prev.Hash {
					return fail("entry %s does not follow entry %s's hash (an entry was removed or altered)", e.ID, prev.ID)
				}
				linkChecks++
			case !allowGaps:
				return fail("entry %s has seq %d after seq %d: %d entries are missing (use --allow-gaps for an export filtered with --incident)",
					e.ID, e.Seq, prev.Seq, e.Seq-prev.Seq-1)
			default:
				gaps++
			}
		}
		for _, a := range anchors {
			if a.Seq == e.Seq {
				if !strings.HasPrefix(e.Hash, a.Hash) {
					return fail("%s does not match anchor %s: the log was rewritten since", name, a.String())
				}
				anchorsChecked++
			}
		}
		prev = &e
		n++
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if n == 0 {
		fmt.Fprintf(stdout, "audit export %s holds no entries\n", path)
		return exitError(exitFailure)
	}
	for _, a := range anchors {
		if a.Seq > prev.Seq {
			fmt.Fprintf(stdout, "audit export %s FAILED verification: it ends at seq %d, but anchor %s witnessed seq %d (entries cut from the end, or an older export)\n",
				path, prev.Seq, a.String(), a.Seq)
			return exitError(exitFailure)
		}
	}
	switch {
	case first == 1 && gaps == 0:
		fmt.Fprintf(stdout, "audit export OK: %d entries, complete chain from the first entry, head %s\n", n, prev.Head().Anchor())
	case gaps == 0:
		fmt.Fprintf(stdout, "audit export OK: %d entries (seq %d-%d), chain intact within the export, head %s\n", n, first, prev.Seq, prev.Head().Anchor())
	default:
		fmt.Fprintf(stdout, "audit export OK: %d entries (seq %d-%d, %d gap(s) from filtering): every entry's hash matches and %d adjacent pair(s) link, head %s\n",
			n, first, prev.Seq, gaps, linkChecks, prev.Head().Anchor())
	}
	if keyed > 0 {
		fmt.Fprintf(stdout, "keyed: %d entries checked with their audit keys\n", keyed)
	}
	if len(anchors) > 0 {
		fmt.Fprintf(stdout, "anchors: %d of %d inside the export matched\n", anchorsChecked, len(anchors))
	}
	return nil
}

// auditFilter selects entries for export.
type auditFilter struct {
	since, until time.Time // until is exclusive; zero means open
	incident     string
}

func (f auditFilter) match(e nova.AuditEntry) bool {
	if !f.since.IsZero() && e.Time.Before(f.since) {
		return false
	}
	if !f.until.IsZero() && !e.Time.Before(f.until) {
		return false
	}
	return f.incident == "" || e.Incident == f.incident
}

// cmdAuditExport writes audit entries as JSON lines or CSV.
func cmdAuditExport(ctx context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlags("audit export")
	path := configFlag(fs)
	since := fs.String("since", "", "only entries at or after this date (YYYY-MM-DD, UTC) or time (RFC 3339)")
	until := fs.String("until", "", "only entries before this date (YYYY-MM-DD, UTC) or time (RFC 3339)")
	incident := fs.String("incident", "", "only entries of this PagerDuty incident id")
	format := fs.String("format", "jsonl", "jsonl (verifiable with nova audit verify --file) or csv")
	if rest, err := parseFlags(fs, args); err != nil {
		return err
	} else if err := noPositional(fs, rest); err != nil {
		return err
	}
	var f auditFilter
	var err error
	if f.since, err = parseTimeFlag("since", *since); err != nil {
		return usageError{err.Error()}
	}
	if f.until, err = parseTimeFlag("until", *until); err != nil {
		return usageError{err.Error()}
	}
	if !f.since.IsZero() && !f.until.IsZero() && !f.since.Before(f.until) {
		return usageError{fmt.Sprintf("--since %s is not before --until %s", *since, *until)}
	}
	f.incident = strings.TrimSpace(*incident)
	var w auditWriter
	switch *format {
	case "jsonl":
		w = jsonlWriter{json.NewEncoder(stdout)}
	case "csv":
		cw := csv.NewWriter(stdout)
		if err := cw.Write(csvHeader); err != nil {
			return err
		}
		w = csvWriter{cw}
	default:
		return usageError{fmt.Sprintf("unknown --format %q: use jsonl or csv", *format)}
	}
	_, st, err := openConfigStore(ctx, *path)
	if err != nil {
		return err
	}
	defer st.Close()
	var after int64
	for {
		page, err := st.ListAudit(ctx, after, 1000)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			return w.Flush()
		}
		for _, e := range page {
			if f.match(e) {
				if err := w.Write(e); err != nil {
					return err
				}
			}
		}
		after = page[len(page)-1].Seq
	}
}

type auditWriter interface {
	Write(nova.AuditEntry) error
	Flush() error
}

type jsonlWriter struct{ enc *json.Encoder }

func (j jsonlWriter) Write(e nova.AuditEntry) error { return j.enc.Encode(e) }
func (j jsonlWriter) Flush() error                  { return nil }

var csvHeader = []string{"seq", "id", "time", "environment", "service", "incident", "actor", "action", "outcome", "detail", "pagerduty_ref", "prev_hash", "hash"}

type csvWriter struct{ w *csv.Writer }

func (c csvWriter) Write(e nova.AuditEntry) error {
	return c.w.Write([]string{
		strconv.FormatInt(e.Seq, 10), e.ID, e.Time.UTC().Format(time.RFC3339Nano),
		csvCell(e.Environment), csvCell(e.Service), csvCell(e.Incident), csvCell(e.Actor), csvCell(e.Action),
		csvCell(e.Outcome), csvCell(e.Detail), csvCell(e.PagerDutyRef), e.PrevHash, e.Hash,
	})
}

func (c csvWriter) Flush() error {
	c.w.Flush()
	return c.w.Error()
}

// csvCell defuses text a spreadsheet would run as a formula (details can
// hold what a Slack user typed): such cells get a leading apostrophe.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// parseTimeFlag parses a date (UTC midnight) or an RFC 3339 time; "" is zero.
func parseTimeFlag(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{"2006-01-02", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errors.New("--" + name + " " + strconv.Quote(s) + " is not a date (YYYY-MM-DD) or RFC 3339 time")
}
