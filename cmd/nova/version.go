package main

import (
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// version overrides the module version when set at build time with
// -ldflags "-X main.version=v1.2.3" (the image build does this); otherwise
// the version Go stamped into the binary is used.
var version = ""

// commit overrides the VCS revision when set with -ldflags "-X main.commit=…"
// (make build does, since Go stamps VCS data only in a plain checkout).
var commit = ""

// buildInfo is what `nova version` and nova_build_info report.
type buildInfo struct {
	Version   string // module version, e.g. v1.4.0 or v0.0.0-20261201223800-473b972e1a2b+dirty
	Commit    string // VCS revision, "" when built outside a checkout
	Time      string // commit time (RFC 3339), "" when unknown
	Modified  bool   // the checkout had uncommitted changes
	GoVersion string
}

// readBuildInfo reads the version and commit Go stamped into the binary.
func readBuildInfo() buildInfo {
	bi := buildInfo{Version: "unknown"}
	info, ok := debug.ReadBuildInfo()
	if ok {
		bi.GoVersion = info.GoVersion
		if v := info.Main.Version; v != "" {
			bi.Version = v
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				bi.Commit = s.Value
			case "vcs.time":
				bi.Time = s.Value
			case "vcs.modified":
				bi.Modified = s.Value == "true"
			}
		}
	}
	if version != "" {
		bi.Version = version
	}
	if commit != "" {
		bi.Commit, bi.Modified = strings.TrimSuffix(commit, "-dirty"), strings.HasSuffix(commit, "-dirty")
	}
	return bi
}

// String is the one-line form `nova version` prints.
func (b buildInfo) String() string {
	var extra []string
	if b.Commit != "" {
		c := b.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		if b.Modified {
			c += " (modified)"
		}
		extra = append(extra, "commit "+c)
	}
	if b.Time != "" {
		extra = append(extra, "built from "+b.Time)
	}
	if b.GoVersion != "" {
		extra = append(extra, b.GoVersion)
	}
	if len(extra) == 0 {
		return "nova " + b.Version
	}
	return fmt.Sprintf("nova %s (%s)", b.Version, strings.Join(extra, ", "))
}

func cmdVersion(stdout io.Writer) error {
	fmt.Fprintln(stdout, readBuildInfo())
	return nil
}
