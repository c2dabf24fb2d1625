package triage

import (
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/novasre/nova"
)

// Scope: where the failure is. A failure confined to one zone, one host or
// one pool of clients says something a global change cannot explain (it
// would fail everywhere) and something a zone failure or a change to that
// very zone can.

// scopeKind is what a confined failure is confined to.
type scopeKind string

const (
	scopeZone scopeKind = "zone" // zone, region, data centre, site
	scopeHost scopeKind = "host" // one server or node
	scopePool scopeKind = "pool" // a pool of hosts or clients, a client version
)

// scopeInfo is what the alerts say about where the failure is.
type scopeInfo struct {
	// confined is set when the failure is confined to one place; where names
	// it, evidence says how we know.
	confined bool
	kind     scopeKind
	where    string
	evidence string
	alert    *nova.Alert
	// strong is set when the alerts say the other places are healthy (a
	// breakdown, or an "other zones: 0" detail), not just where it failed.
	strong bool
	// everywhere is set when the alerts say every version or zone fails
	// ("app_versions_affected: all"): no client release or zone explains it.
	everywhere bool
}

// scopeKeyKinds maps words in detail keys to the kind of place they name.
var scopeKeyKinds = map[string]scopeKind{
	"zone": scopeZone, "availabilityzone": scopeZone, "az": scopeZone, "region": scopeZone, "datacenter": scopeZone,
	"datacentre": scopeZone, "dc": scopeZone, "site": scopeZone, "location": scopeZone, "colo": scopeZone, "可用区": scopeZone,
	"host": scopeHost, "node": scopeHost, "server": scopeHost, "instance": scopeHost, "machine": scopeHost,
	"pool": scopePool, "version": scopePool, "versions": scopePool, "jdk": scopePool, "openssl": scopePool, "platform": scopePool,
}

// otherWords mark a detail about the places that are not failing.
var otherWords = toSet("other others autres otros outros andere 其他 他の")

// healthyValue reports whether a detail value says "fine": 0, ok, normal.
func healthyValue(v string) bool {
	v = strings.ToLower(strings.TrimSpace(v))
	if f, _, _, _, ok := parseNumber(v); ok && f == 0 {
		return true
	}
	for _, p := range []string{"ok", "normal", "healthy", "fine", "none", "正常", "n/a"} {
		if strings.HasPrefix(v, p) {
			return true
		}
	}
	return false
}

// zoneLike recognises zone, region and data-centre names in breakdown keys.
var zoneLike = regexp.MustCompile(`^(?:[a-z]{2}(?:-[a-z]+)+-?\d+[a-z]?|[a-z]{2,5}\d-az\d+|[a-z]+-[a-z]+\d-[a-z]|cn-[a-z]+-[a-z]|[a-z]{3}\d{2}|zone-?[a-z0-9]+|az\d)$`)

// readScope reads where the failure is from the alerts' details.
func readScope(alerts []nova.Alert) scopeInfo {
	var s scopeInfo
	for i := range alerts {
		a := &alerts[i]
		keys := sortedKeys(a.Details)
		// Breakdowns: "errors.us-east-1a: 4120", "healthy_backends.pdx04: 0/412".
		groups := map[string]map[string]string{}
		for _, k := range keys {
			if dot := strings.LastIndex(k, "."); dot > 0 && dot < len(k)-1 {
				prefix, member := k[:dot], strings.ToLower(k[dot+1:])
				if groups[prefix] == nil {
					groups[prefix] = map[string]string{}
				}
				groups[prefix][member] = a.Details[k]
			}
		}
		for _, prefix := range sortedGroupKeys(groups) {
			if c, ok := concentrated(prefix, groups[prefix]); ok && !s.strong {
				s = scopeInfo{confined: true, kind: scopeZone, where: c.where, evidence: c.evidence, alert: a, strong: true}
			}
		}
		// Single scope keys with a word about the other places.
		var named, namedKey string
		var kind scopeKind
		othersHealthy := false
		for _, k := range keys {
			words := detailKeyWords(k)
			other := strings.Contains(strings.ToLower(k), "other")
			for _, w := range words {
				for o := range otherWords {
					if w == o || (unspacedScript(o) && strings.Contains(w, o)) {
						other = true
					}
				}
			}
			if other {
				if healthyValue(a.Details[k]) {
					othersHealthy = true
				}
				continue
			}
			v := strings.TrimSpace(a.Details[k])
			if hasWord(words, "upstream", "target", "idp", "registry", "endpoint", "db", "backend", "nameservers", "provider", "primary") {
				continue // where the service failed to reach, not where it runs
			}
			if _, _, _, _, isNum := parseNumber(v); isNum {
				continue // a count of places, not a place
			}
			if kk, ok := keyKind(words); ok && v != "" {
				if kk == scopePool && strings.HasPrefix(strings.ToLower(v), "all") {
					s.everywhere = true
					continue
				}
				if strings.Contains(v, ",") || strings.HasPrefix(strings.ToLower(v), "all") {
					continue // several places: not confined
				}
				if named == "" || (kind != scopeZone && kk == scopeZone) {
					named, namedKey, kind = firstWord(v), k, kk
				}
			}
			if strings.HasPrefix(strings.ToLower(k), "failing_") && v != "" && named == "" {
				named, namedKey, kind = v, k, scopePool
			}
		}
		if named != "" && !s.strong {
			if othersHealthy {
				s = scopeInfo{confined: true, kind: kind, where: named, alert: a, strong: true,
					evidence: namedKey + " " + named + " fails while the others are healthy"}
			} else if !s.confined {
				s = scopeInfo{confined: true, kind: kind, where: named, alert: a,
					evidence: namedKey + " " + named}
			}
		}
	}
	return s
}

// withSpread is s, confined to the one zone an inline breakdown shows
// failing ("us-east-1b 64%, us-east-1a 0.3%") when the details said nothing
// as strong: such a breakdown confines the failure as surely as a dotted
// one.
func (s scopeInfo) withSpread(sp spreadInfo) scopeInfo {
	if s.strong || len(sp.failing) != 1 || !zoneLike.MatchString(strings.ToLower(sp.failing[0].name)) {
		return s
	}
	p := sp.failing[0]
	return scopeInfo{confined: true, kind: scopeZone, where: p.name, alert: sp.alert, strong: true,
		evidence: sp.key + " concentrated in " + p.name}
}

func sortedGroupKeys(m map[string]map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func keyKind(words []string) (scopeKind, bool) {
	for _, w := range words {
		if scopeKeyKinds[w] == scopePool {
			return scopePool, true
		}
	}
	for _, w := range words {
		if k, ok := scopeKeyKinds[w]; ok {
			return k, true
		}
	}
	// "availability_zone" and "Dimensions.AvailabilityZone" split into two
	// words; the pair names a zone.
	if hasWord(words, "availability") {
		return scopeZone, true
	}
	return "", false
}

func firstWord(v string) string {
	if f := strings.Fields(v); len(f) > 0 {
		return strings.Trim(f[0], ",;()")
	}
	return v
}

type concentration struct{ where, evidence string }

// concentrated reports whether a breakdown puts nearly all of the failure
// in one member: counts of errors (one member has three quarters or more),
// or health fractions (one member mostly down while the others are up).
func concentrated(prefix string, members map[string]string) (concentration, bool) {
	if len(members) < 2 {
		return concentration{}, false
	}
	zoneish := 0
	for m := range members {
		if zoneLike.MatchString(m) {
			zoneish++
		}
	}
	if zoneish < len(members) {
		return concentration{}, false
	}
	healthKey := hasWord(detailKeyWords(prefix), "healthy", "up", "ok", "available", "in")
	type mv struct {
		name string
		bad  float64
	}
	var list []mv
	total := 0.0
	for name, v := range members {
		f, _, _, fraction, ok := parseNumber(v)
		if !ok {
			return concentration{}, false
		}
		bad := f
		if healthKey {
			if !fraction {
				return concentration{}, false
			}
			bad = 1 - f
		}
		list = append(list, mv{name, bad})
		total += bad
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].bad != list[j].bad {
			return list[i].bad > list[j].bad
		}
		return list[i].name < list[j].name
	})
	top, second := list[0], list[1]
	ok := false
	if healthKey {
		ok = top.bad >= 0.5 && second.bad <= 0.1
	} else {
		ok = total > 0 && top.bad >= 0.75*total && top.bad >= 3*second.bad
	}
	if !ok {
		return concentration{}, false
	}
	ev := prefix + " concentrated in " + top.name
	if !healthKey {
		ev += " (" + strconv.Itoa(int(100*top.bad/total+0.5)) + "% of " + strconv.FormatFloat(total, 'f', -1, 64) + ")"
	}
	return concentration{where: top.name, evidence: ev}, true
}

// scopeFactor is how the failure's scope bears on a change: a change that
// names the place the failure is confined to is favoured, one that names
// another place or goes everywhere is not what a confined failure looks
// like. It returns 1 when the scope says nothing, and the reason otherwise.
func (s scopeInfo) scopeFactor(c nova.ChangeEvent, explain float64) (float64, string) {
	if !s.confined || s.where == "" {
		return 1, ""
	}
	text := strings.ToLower(changeText(c))
	if strings.Contains(text, strings.ToLower(s.where)) {
		return 1.3, ""
	}
	if !s.strong {
		return 1, ""
	}
	// A change that touched exactly what fails may still be zone-specific
	// in ways its summary does not say; discount it less.
	f := 0.45 + 0.35*explain
	return f, "errors are confined to " + s.where + " while the change was not"
}
