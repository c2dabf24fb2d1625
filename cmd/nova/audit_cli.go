package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/config"
)

// cmdAuditVerify checks the audit log's hash chain, in the store or in an
// export file.
func cmdAuditVerify(ctx context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlags("audit verify")
	path := configFlag(fs)
	file := fs.String("file", "", "check this JSON-lines export (from nova audit export) instead of the store; - for stdin")
	gaps := fs.Bool("allow-gaps", false, "with --file: accept missing sequence numbers (an export filtered with --incident)")
	if rest, err := parseFlags(fs, args); err != nil {
		return err
	} else if err := noPositional(fs, rest); err != nil {
		return err
	}
	if *file != "" {
		if flagSet(fs, "config") {
			return usageError{"give --config (the store) or --file (an export), not both"}
		}
		return verifyExportFile(*file, *gaps, stdout)
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, quietLogger())
	if err != nil {
		return err
	}
	defer st.Close()
	var (
		prevHash string
		prevSeq  int64
		n        int
	)
	for {
		page, err := st.ListAudit(ctx, prevSeq, 1000)
		if err != nil {
			return err
		}
		if i, why := nova.VerifyChain(page, prevHash, prevSeq); i >= 0 {
			fmt.Fprintf(stdout, "audit log FAILED verification after %d good entries: %s\n", n+i, why)
			return exitError(exitFailure)
		}
		if len(page) == 0 {
			break
		}
		n += len(page)
		last := page[len(page)-1]
		prevHash, prevSeq = last.Hash, last.Seq
	}
	fmt.Fprintf(stdout, "audit log OK: %d entries, chain intact, head %s\n", n, orDash(prevHash))
	return nil
}

// verifyExportFile checks a JSON-lines export offline. Every entry's hash
// must match its content, sequence numbers must increase without gaps
// (unless allowGaps, for an export filtered by incident) and entries with
// consecutive numbers must link by hash. An export that starts at the
// first entry is therefore checked as a whole chain. Entries cut from the
// end cannot be seen offline: the head hash printed is to be compared with
// `nova audit verify --config`'s.
func verifyExportFile(path string, allowGaps bool, stdout io.Writer) error {
	var r io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	var (
		prev       *nova.AuditEntry
		n, gaps    int
		first      int64
		line       int
		linkChecks int
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
		if e.ComputeHash() != e.Hash {
			return fail("entry %s was altered: its hash does not match its content", e.ID)
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
	switch {
	case first == 1 && gaps == 0:
		fmt.Fprintf(stdout, "audit export OK: %d entries, complete chain from the first entry, head %s\n", n, prev.Hash)
	case gaps == 0:
		fmt.Fprintf(stdout, "audit export OK: %d entries (seq %d-%d), chain intact within the export, head %s\n", n, first, prev.Seq, prev.Hash)
	default:
		fmt.Fprintf(stdout, "audit export OK: %d entries (seq %d-%d, %d gap(s) from filtering): every entry's hash matches and %d adjacent pair(s) link, head %s\n",
			n, first, prev.Seq, gaps, linkChecks, prev.Hash)
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
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, quietLogger())
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
