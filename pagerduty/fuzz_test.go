package pagerduty

import (
	"encoding/hex"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/novasre/nova"
)

// webhookFuzzBodies returns every delivery body the fixtures give: the
// envelopes as they are and the data-only files wrapped in one.
func webhookFuzzBodies(f *testing.F) [][]byte {
	f.Helper()
	files, err := filepath.Glob(filepath.Join(webhookFixtureDir, "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no fixtures in %s: %v", webhookFixtureDir, err)
	}
	var out [][]byte
	for _, path := range files {
		name := filepath.Base(path)
		if strings.HasPrefix(name, "webhook_v3_data_") {
			typ := strings.TrimSuffix(strings.TrimPrefix(name, "webhook_v3_data_"), ".json")
			resource := strings.SplitN(typ, "_", 2)[0]
			out = append(out, wrapWebhookData(f, name, resource+".fuzzed", resource))
			continue
		}
		out = append(out, readWebhookFixture(f, name))
	}
	return out
}

func FuzzVerifySignature(f *testing.F) {
	for _, v := range loadWebhookSignatureVectors(f, webhookFixtureDir) {
		f.Add(v.body, v.secret, "another-secret")
	}
	for _, body := range webhookFuzzBodies(f) {
		f.Add(body, "s3cr3t", "old")
	}
	f.Add([]byte{}, "k", "")
	f.Fuzz(func(t *testing.T, body []byte, secret, other string) {
		if secret == "" {
			return // blank secrets are refused by design; covered by unit tests
		}
		header := signWebhook(body, secret)
		// A body signed with S always verifies under S, alone, during a
		// rotation, and next to signatures of other versions.
		if err := VerifySignature(body, header, []string{secret}); err != nil {
			t.Fatalf("own signature refused: %v", err)
		}
		if err := VerifySignature(body, header, []string{other, secret}); err != nil {
			t.Fatalf("own signature refused during rotation: %v", err)
		}
		if err := VerifySignature(body, "v0=ab, "+signWebhook(body, other+"x")+" ,"+header, []string{secret}); err != nil {
			t.Fatalf("own signature refused among others: %v", err)
		}
		// Another secret never verifies, and neither does a changed body.
		// HMAC pads short keys with zero bytes, so keys that differ only in
		// trailing NULs are the same key (found by this fuzzer; not a bug).
		if other != "" && strings.TrimRight(other, "\x00") != strings.TrimRight(secret, "\x00") {
			if err := VerifySignature(body, signWebhook(body, other), []string{secret}); !nova.IsCode(err, nova.EUNAUTHORIZED) {
				t.Fatalf("signature of another secret: got %v", err)
			}
		}
		if len(body) > 0 {
			tampered := append([]byte(nil), body...)
			tampered[len(tampered)-1] ^= 0x20
			if err := VerifySignature(tampered, header, []string{secret}); !nova.IsCode(err, nova.EUNAUTHORIZED) {
				t.Fatalf("tampered body: got %v", err)
			}
		}
	})
}

func FuzzParseSignatureHeader(f *testing.F) {
	for _, v := range loadWebhookSignatureVectors(f, webhookFixtureDir) {
		f.Add(v.validHeader)
		f.Add(v.invalidHeader + "," + v.validHeader)
	}
	for _, s := range []string{"", ",", "v1=", "v1=zz", "v0=abc,v1=" + strings.Repeat("A", 64),
		" v1=" + strings.Repeat("f", 64) + " , v2=00", strings.Repeat("v1=,", 40)} {
		f.Add(s)
	}
	body := []byte(`{"event":{"id":"E","event_type":"pagey.ping"}}`)
	f.Fuzz(func(t *testing.T, header string) {
		sigs := parseSignatureHeader(header, nil)
		if len(sigs) > webhookSignatureMax {
			t.Fatalf("%d signatures parsed, cap is %d", len(sigs), webhookSignatureMax)
		}
		// Formatting the parsed signatures and parsing again is lossless.
		parts := make([]string, len(sigs))
		for i := range sigs {
			parts[i] = webhookSignaturePrefix + hex.EncodeToString(sigs[i][:])
		}
		if again := parseSignatureHeader(strings.Join(parts, ","), nil); !reflect.DeepEqual(again, sigs) {
			t.Fatalf("reparse changed the signatures: %x vs %x", again, sigs)
		}
		err := VerifySignature(body, header, []string{"secret"})
		switch {
		case len(sigs) == 0 && !nova.IsCode(err, nova.EINVALID):
			t.Fatalf("no usable signature but got %v", err)
		case len(sigs) > 0 && err != nil && !nova.IsCode(err, nova.EUNAUTHORIZED):
			t.Fatalf("usable signatures but got %v", err)
		}
	})
}

func FuzzDecodeEvent(f *testing.F) {
	for _, body := range webhookFuzzBodies(f) {
		f.Add(body)
	}
	for _, s := range []string{"", "null", "{}", `{"event":{}}`, `{"event":{"id":"E","event_type":"pagey.ping"}}x`,
		`{"event":{"id":"E","event_type":"incident.triggered","data":{"type":"incident","number":"1"}}}`,
		`{"event":{"id":"E","event_type":"incident.role.assigned","data":{"type":"incident_role_assignment","incident_role_assignments":[{"incident":null},{"incident":{"id":"P"}}]}}}`,
		`{"event":{"id":"E","event_type":"incident.resolved","data":{"type":"incident","resolve_reason":{"type":"merge_resolve_reason"}}}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := DecodeEvent(body)
		if err != nil {
			var ne *nova.Error
			if !errors.As(err, &ne) || ne.Code != nova.EINVALID || ne.Message == "" {
				t.Fatalf("error %v is not an EINVALID *nova.Error with a message", err)
			}
			if !reflect.DeepEqual(ev, nova.Event{}) {
				t.Fatalf("refused body still produced an event: %+v", ev)
			}
			return
		}
		if strings.TrimSpace(ev.ID) == "" || strings.TrimSpace(string(ev.Type)) == "" {
			t.Fatalf("decoded event without id or type: %+v", ev)
		}
		if ev.Incident != nil && ev.IncidentID != ev.Incident.ID {
			t.Fatalf("IncidentID %q differs from Incident.ID %q", ev.IncidentID, ev.Incident.ID)
		}
		if ev.Environment != "" || ev.WebhookID != "" || !ev.ReceivedAt.IsZero() {
			t.Fatalf("decode set fields that belong to the handler: %+v", ev)
		}
		again, err := DecodeEvent(body)
		if err != nil || !reflect.DeepEqual(again, ev) {
			t.Fatalf("decoding is not deterministic: %+v / %v", again, err)
		}
	})
}

// FuzzDecodeSupportingServices feeds the service dependencies decoder
// arbitrary answers: it never panics, and what it accepts is a list of
// PagerDuty ids, each once, never the service itself, and the same
// answer always gives the same list.
func FuzzDecodeSupportingServices(f *testing.F) {
	for _, s := range []string{"", "null", "{}", `{"relationships":null}`, `{"relationships":[]}`, `{"relationships":[]} x`,
		`{"relationships":[{"id":"D1","type":"service_dependency","supporting_service":{"id":"PSUP","type":"technical_service_reference"},"dependent_service":{"id":"PX","type":"technical_service_reference"}}]}`,
		`{"relationships":[{"supporting_service":{"id":"PX","type":"technical_service_reference"},"dependent_service":{"id":"PBIZ","type":"business_service_reference"}},{"supporting_service":{"id":"PSUP","type":"technical_service_reference","summary":"db"},"dependent_service":{"id":"PX","type":"technical_service_reference"}}],"more":false}`,
		`{"relationships":[{"supporting_service":{"id":"PX","type":"technical_service_reference"},"dependent_service":{"id":"PX","type":"technical_service_reference"}}]}`,
		`{"relationships":[{"supporting_service":{"id":"a/b","type":"technical_service_reference"},"dependent_service":{"id":"PX","type":"x"}}]}`} {
		f.Add([]byte(s), "PX")
	}
	f.Fuzz(func(t *testing.T, body []byte, serviceID string) {
		refs, err := decodeSupportingServices(body, serviceID)
		if err != nil {
			if !isDecodeError(err) {
				t.Fatalf("refusal %v would be retried as a network error", err)
			}
			if refs != nil {
				t.Fatalf("refused answer still produced %v", refs)
			}
			return
		}
		seen := map[string]bool{}
		for _, r := range refs {
			switch {
			case !idSegment.MatchString(r.ID):
				t.Fatalf("accepted %q as a service id", r.ID)
			case r.ID == serviceID:
				t.Fatalf("the service depends on itself: %v", refs)
			case seen[r.ID]:
				t.Fatalf("%q listed twice: %v", r.ID, refs)
			}
			seen[r.ID] = true
		}
		again, err := decodeSupportingServices(body, serviceID)
		if err != nil || !reflect.DeepEqual(again, refs) {
			t.Fatalf("decoding is not deterministic: %v / %v", again, err)
		}
	})
}
