package triage

import (
	"regexp"
	"sort"
	"strings"

	"github.com/novasre/nova"
)

// Spread: the places a failure reaches, read from the breakdowns alerts
// carry ("ON=171/240, QC=38/101, BC=3/96", "es: -87%, pt: -84%, fr: -2%",
// "1.22=61%, 1.23=38%, 1.24=1%"). A change that names some of those places
// and not others cannot explain the failure in the others: an SD-WAN tweak
// in the Quebec stores does not take down the Ontario ones. This is the
// converse of a confined failure (see scope.go), which a change everywhere
// cannot explain.

// place is one member of a breakdown with how badly it fails, in [0, 1]
// relative to the worst member.
type place struct {
	name string
	bad  float64
}

// spreadInfo is the failing places of the alerts' breakdowns.
type spreadInfo struct {
	// failing are the places at least spreadShare as bad as the worst one.
	failing []place
	// all are every member of the breakdown, healthy ones included.
	all   []place
	key   string
	alert *nova.Alert
}

// spreadShare is how bad a place must be, relative to the worst, to count
// as failing too.
const spreadShare = 0.2

// breakdownPair reads "name=value", "name: value" or "name value" members of
// an inline breakdown.
var breakdownPair = regexp.MustCompile(`^\s*([\p{L}][\p{L}\p{N}._\- ]{0,30}?|[0-9]+(?:\.[0-9]+)+)\s*(?:\([^)]*\))?\s*(?:[=:]|\s)\s*([-+]?[0-9][0-9.,]*\s*(?:/\s*[0-9][0-9.,]*|%)?)`)

// placeKey is a detail key that is itself a short place code ("es", "ON",
// "eu-west-1a").
var placeKey = regexp.MustCompile(`^[A-Za-z]{2,3}$`)

// isPlaceKey reports whether a detail key names a place: a short code or a
// zone name.
func isPlaceKey(k string) bool {
	return placeKey.MatchString(k) || zoneLike.MatchString(strings.ToLower(k))
}

// notPlaces are short detail keys that are not places.
var notPlaces = toSet("avg max min sum sla slo apm env tag app pid ttl age qps rps tps iops log err")

// readSpread finds the first breakdown over three or more places in the
// alerts and returns the places that fail in it.
func readSpread(alerts []nova.Alert) spreadInfo {
	for i := range alerts {
		a := &alerts[i]
		for _, k := range sortedKeys(a.Details) {
			if ps := inlineBreakdown(a.Details[k]); len(ps) >= 3 {
				if f := failingPlaces(ps); len(f) > 0 {
					return spreadInfo{failing: f, all: ps, key: k, alert: a}
				}
			}
		}
		// Per-place keys: three or more short codes with numbers.
		var ps []place
		for _, k := range sortedKeys(a.Details) {
			if !isPlaceKey(k) || notPlaces[strings.ToLower(k)] {
				continue
			}
			if _, measure := topicOfWord(strings.ToLower(k)); measure {
				continue
			}
			if bad, ok := badness(a.Details[k]); ok {
				ps = append(ps, place{name: k, bad: bad})
			}
		}
		if len(ps) >= 3 {
			if f := failingPlaces(ps); len(f) > 0 {
				return spreadInfo{failing: f, all: ps, key: "by place", alert: a}
			}
		}
	}
	return spreadInfo{}
}

// inlineBreakdown splits "ON=171/240, QC=38/101" into places.
func inlineBreakdown(v string) []place {
	parts := strings.Split(v, ",")
	if len(parts) < 3 {
		return nil
	}
	var out []place
	for _, p := range parts {
		m := breakdownPair.FindStringSubmatch(p)
		if m == nil {
			return nil
		}
		bad, ok := badness(m[2])
		if !ok {
			return nil
		}
		out = append(out, place{name: strings.TrimSpace(m[1]), bad: bad})
	}
	return out
}

// badness reads how badly a place fails from its figure: a fraction of
// units down (171/240), a share (61%), a drop against the usual (-87%), or
// a count. Rises (+1%) count as healthy.
func badness(v string) (float64, bool) {
	v = strings.TrimSpace(v)
	f, pct, _, fraction, ok := parseNumber(strings.TrimPrefix(v, "+"))
	if !ok {
		return 0, false
	}
	switch {
	case fraction:
		return f, true
	case pct && strings.HasPrefix(v, "-"):
		return -f / 100, true
	case pct && strings.HasPrefix(v, "+"):
		return 0, true
	case f < 0:
		return 0, true
	}
	return f, true
}

// failingPlaces keeps the places at least spreadShare as bad as the worst,
// provided some place is healthy enough to make the breakdown say where.
func failingPlaces(ps []place) []place {
	worst := 0.0
	for _, p := range ps {
		worst = maxf(worst, p.bad)
	}
	if worst <= 0 {
		return nil
	}
	var out []place
	for _, p := range ps {
		if p.bad >= spreadShare*worst {
			out = append(out, place{name: p.name, bad: p.bad / worst})
		}
	}
	if len(out) == len(ps) {
		return nil // every place fails: nothing to tell apart
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].bad > out[j].bad })
	return out
}

// spreadFactor is how the failing places bear on a change that names some
// places of the breakdown: 1 when it names none (the breakdown says
// nothing of it) or all of the failing ones; spreadMissed when it names
// only healthy places or misses the worst one, with the reason.
func (s spreadInfo) spreadFactor(c nova.ChangeEvent) (float64, string) {
	if len(s.failing) == 0 {
		return 1, ""
	}
	text := changeText(c)
	named := map[string]bool{}
	for _, p := range s.all {
		if namesPlace(text, p.name) {
			named[strings.ToLower(p.name)] = true
		}
	}
	if len(named) == 0 {
		return 1, ""
	}
	var missed []string
	for _, p := range s.failing {
		if !named[strings.ToLower(p.name)] {
			missed = append(missed, p.name)
		}
	}
	if len(missed) == 0 {
		return 1, ""
	}
	worst := s.failing[0].name
	if named[strings.ToLower(worst)] {
		return spreadPartial, "it touched only part of where the failure is (" + strings.Join(missed, ", ") + " fail too)"
	}
	return spreadMissed, "the failure is worst in " + worst + ", which it did not touch"
}

// Factors for a change that names places of the breakdown and misses some
// failing ones.
const (
	spreadPartial = 0.8
	spreadMissed  = 0.5
)

// namesPlace reports whether a change's text names a place: codes of three
// letters or fewer only as written (upper-case "ON", not the word "on").
func namesPlace(text, name string) bool {
	if name == "" {
		return false
	}
	short := len([]rune(name)) <= 3
	hay, needle := text, name
	if !short {
		hay, needle = strings.ToLower(text), strings.ToLower(name)
	} else if strings.ToLower(name) == name {
		needle = strings.ToUpper(name) // "es" in a breakdown is "ES" in prose
	}
	for i := 0; ; {
		j := strings.Index(hay[i:], needle)
		if j < 0 {
			return false
		}
		j += i
		before, after := j == 0 || !isWordByte(hay[j-1]), j+len(needle) >= len(hay) || !isWordByte(hay[j+len(needle)])
		if before && after {
			return true
		}
		i = j + 1
	}
}

func isWordByte(b byte) bool {
	return b == '_' || (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z')
}
