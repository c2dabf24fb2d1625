package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/user"
	"sort"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/novasre/nova"
	"github.com/novasre/nova/config"
	"github.com/novasre/nova/store"
)

// modeDrift is one service whose actual mode is not its intended one.
type modeDrift struct {
	svc    nova.Service
	actual nova.ServiceState
}

// driftedModes lists the declared services whose stored mode differs from
// the configured one.
func driftedModes(ctx context.Context, cfg *config.Config, st store.Store) ([]modeDrift, error) {
	var out []modeDrift
	for _, svc := range cfg.DomainServices() {
		s, _, err := store.Load[nova.ServiceState](ctx, st, store.KindService, svc.ID)
		if nova.IsCode(err, nova.ENOTFOUND) {
			continue // never run: the declared mode applies at the first start
		}
		if err != nil {
			return nil, fmt.Errorf("read the state of service %s: %w", svc.ID, err)
		}
		if s.Mode != svc.DeclaredMode {
			out = append(out, modeDrift{svc: svc, actual: s})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].svc.ID < out[j].svc.ID })
	return out, nil
}

// cliActor names the person running the command line in audit entries.
func cliActor() string {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	if name == "" {
		name = "unknown"
	}
	return "cli:" + name
}

// reconcileModes resolves mode drift in one direction, never both: config
// brings the actual (stored) modes to the intended (configured) ones;
// store records the actual modes as intended by changing the config file.
// Without apply it only says what it would do.
func reconcileModes(ctx context.Context, cfg *config.Config, path string, st store.Store, now time.Time, direction string, apply bool, stdout io.Writer) error {
	drift, err := driftedModes(ctx, cfg, st)
	if err != nil {
		return err
	}
	if len(drift) == 0 {
		fmt.Fprintln(stdout, "Nothing to reconcile: every service's actual mode is its intended mode.")
		return nil
	}
	if direction == "config" {
		return reconcileToConfig(ctx, cfg, st, now, drift, apply, stdout)
	}
	return reconcileToStore(ctx, cfg, path, st, now, drift, apply, stdout)
}

func reconcileToConfig(ctx context.Context, cfg *config.Config, st store.Store, now time.Time, drift []modeDrift, apply bool, stdout io.Writer) error {
	fmt.Fprintln(stdout, "Bring actual modes to the intended ones (config → store):")
	for _, d := range drift {
		fmt.Fprintf(stdout, "  %s (%s, %s): %s → %s\n", d.svc.Name, d.svc.ID, d.svc.Environment, d.actual.Mode, d.svc.DeclaredMode)
	}
	if !apply {
		fmt.Fprintln(stdout, "Dry run: nothing changed. Run again with --apply to set these modes (each change is audited).")
		return nil
	}
	if err := useAuditKey(ctx, cfg, st, quietLogger()); err != nil {
		return err
	}
	actor := cliActor()
	for _, d := range drift {
		_, err := store.Update(ctx, st, store.KindService, d.svc.ID, func(s *nova.ServiceState, exists bool) error {
			if !exists || s.Mode != d.actual.Mode {
				return nova.Errorf(nova.ECONFLICT, "%s changed mode while reconciling (now %s); run the review again", d.svc.Name, s.Mode)
			}
			s.Mode, s.Since, s.ChangedBy = d.svc.DeclaredMode, now, actor
			if d.svc.DeclaredMode == nova.ModeReadOnly {
				s.ReadOnlySince = now // a new watching period begins
			}
			return nil
		})
		if err != nil {
			return err
		}
		e := nova.AuditEntry{ID: nova.NewAuditID(now), Time: now, Environment: d.svc.Environment, Service: d.svc.ID, Actor: actor,
			Action: "mode.reconcile", Outcome: nova.OutcomeOK,
			Detail: fmt.Sprintf("%s: %s → %s (nova review --reconcile=config: actual brought to intended)", d.svc.Name, d.actual.Mode, d.svc.DeclaredMode)}
		if _, err := st.AppendAudit(ctx, e); err != nil {
			return fmt.Errorf("%s was set to %s, but the audit entry could not be written: %w", d.svc.Name, d.svc.DeclaredMode, err)
		}
		fmt.Fprintf(stdout, "  set %s to %s (audit %s)\n", d.svc.Name, d.svc.DeclaredMode, e.ID)
	}
	fmt.Fprintln(stdout, "Done. Running replicas pick the modes up within seconds.")
	return nil
}

func reconcileToStore(ctx context.Context, cfg *config.Config, path string, st store.Store, now time.Time, drift []modeDrift, apply bool, stdout io.Writer) error {
	fmt.Fprintln(stdout, "Record the actual modes as intended (store → config). The config change:")
	fmt.Fprintln(stdout, "services:")
	for _, d := range drift {
		fmt.Fprintf(stdout, "  - id: %s   # %s (%s): config says %s; set to %s by %s on %s\n    mode: %s\n",
			d.svc.ID, d.svc.Name, d.svc.Environment, d.svc.DeclaredMode, d.actual.Mode, d.actual.ChangedBy,
			d.actual.Since.UTC().Format("2006-01-02"), d.actual.Mode)
	}
	if !apply {
		fmt.Fprintf(stdout, "Dry run: nothing changed. Run again with --apply to write these modes into %s (the old file is kept as %s.bak), or edit it by hand.\n", path, path)
		return nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	modes := map[string]nova.Mode{}
	for _, d := range drift {
		modes[d.svc.ID] = d.actual.Mode
	}
	updated, err := setServiceModes(raw, modes)
	if err != nil {
		return err
	}
	if _, err := config.Parse(updated, os.LookupEnv); err != nil {
		return fmt.Errorf("the updated config would not be valid, nothing written: %w", err)
	}
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path+".bak", raw, info.Mode().Perm()); err != nil {
		return fmt.Errorf("keep a backup of the config: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, updated, info.Mode().Perm()); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	if err := useAuditKey(ctx, cfg, st, quietLogger()); err != nil {
		return err
	}
	actor := cliActor()
	for _, d := range drift {
		e := nova.AuditEntry{ID: nova.NewAuditID(now), Time: now, Environment: d.svc.Environment, Service: d.svc.ID, Actor: actor,
			Action: "config.reconcile", Outcome: nova.OutcomeOK,
			Detail: fmt.Sprintf("%s: intended %s → %s in %s (nova review --reconcile=store: actual recorded as intended)", d.svc.Name, d.svc.DeclaredMode, d.actual.Mode, path)}
		if _, err := st.AppendAudit(ctx, e); err != nil {
			return fmt.Errorf("the config was updated, but the audit entry could not be written: %w", err)
		}
	}
	fmt.Fprintf(stdout, "Wrote %s (backup: %s.bak). Reload Nova (SIGHUP) and commit the file.\n", path, path)
	return nil
}

// setServiceModes sets services[].mode for the given ids in a YAML
// document, keeping its comments, references (${VAR}) and layout as far as
// the YAML encoder allows.
func setServiceModes(raw []byte, modes map[string]nova.Mode) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("config is not valid YAML: %v", err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("config is not a YAML mapping")
	}
	services := mapValue(doc.Content[0], "services")
	if services == nil || services.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("config has no services list")
	}
	done := map[string]bool{}
	for _, s := range services.Content {
		if s.Kind != yaml.MappingNode {
			continue
		}
		id := mapValue(s, "id")
		if id == nil {
			continue
		}
		mode, ok := modes[id.Value]
		if !ok {
			continue
		}
		if m := mapValue(s, "mode"); m != nil {
			m.Value, m.Tag, m.Style = string(mode), "!!str", 0
		} else {
			s.Content = append(s.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "mode"}, &yaml.Node{Kind: yaml.ScalarNode, Value: string(mode)})
		}
		done[id.Value] = true
	}
	for id := range modes {
		if !done[id] {
			return nil, fmt.Errorf("service %s is not in the config's services list", id)
		}
	}
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}
