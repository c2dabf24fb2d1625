package main

import (
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/novasre/nova/config"
)

// newLogger returns a logrus logger writing JSON (or text) to w, with every
// configured secret scrubbed from its output as a last line of defence.
func newLogger(w io.Writer, cfg *config.Config) (*logrus.Logger, *scrubbingFormatter) {
	l := logrus.New()
	l.SetOutput(w)
	// Sub-second timestamps: an incident's milestones are often within one second.
	var inner logrus.Formatter = &logrus.JSONFormatter{TimestampFormat: time.RFC3339Nano}
	if cfg.Log.Format == "text" {
		inner = &logrus.TextFormatter{DisableColors: true, FullTimestamp: true, TimestampFormat: time.RFC3339Nano}
	}
	s := &scrubbingFormatter{inner: inner}
	s.setSecrets(cfg.AllSecrets())
	l.SetFormatter(s)
	if lvl, err := logrus.ParseLevel(cfg.Log.Level); err == nil {
		l.SetLevel(lvl)
	}
	return l, s
}

// scrubbingFormatter replaces secret values in formatted log lines.
type scrubbingFormatter struct {
	inner    logrus.Formatter
	replacer atomic.Pointer[strings.Replacer]
}

func (f *scrubbingFormatter) setSecrets(secrets []string) {
	var pairs []string
	for _, s := range secrets {
		if len(s) >= 4 {
			pairs = append(pairs, s, "[redacted]")
		}
	}
	f.replacer.Store(strings.NewReplacer(pairs...))
}

func (f *scrubbingFormatter) Format(e *logrus.Entry) ([]byte, error) {
	b, err := f.inner.Format(e)
	if err != nil {
		return b, err
	}
	if r := f.replacer.Load(); r != nil {
		return []byte(r.Replace(string(b))), nil
	}
	return b, nil
}
