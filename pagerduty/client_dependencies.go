package pagerduty

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	gopd "github.com/PagerDuty/go-pagerduty"

	"github.com/novasre/nova"
)

// Reference types in PagerDuty's service dependency answers. Answers name
// services with the *_reference types; requests (which Nova never sends)
// take "service" and "business_service".
const (
	technicalServiceRef = "technical_service_reference"
	businessServiceRef  = "business_service_reference"
)

// maxRelationships bounds the relationships read from one answer:
// PagerDuty allows a service at most 2,000 dependencies.
const maxRelationships = 2000

// SupportingServices returns the technical services serviceID depends on,
// as the account's service dependencies record them (GET
// /service_dependencies/technical_services/{id}, a view call; the API key
// needs services.read). The answer lists the service's relationships in
// both directions; only those where serviceID is the dependent and the
// supporting side is a technical service count, in PagerDuty's order,
// each once. Business services are not technical services and are left
// out.
//
// ENOTFOUND means PagerDuty knows no such service; EFORBIDDEN means the
// account or key may not read service dependencies. Both are expected on
// accounts without the feature, so the client logs them at debug level
// only and leaves reporting to the caller.
func (c *Client) SupportingServices(ctx context.Context, serviceID string) ([]nova.Ref, error) {
	if err := checkID("service", serviceID); err != nil {
		return nil, err
	}
	var out []nova.Ref
	err := c.do(ctx, apiCall{name: "list dependencies of service " + serviceID, method: http.MethodGet,
		expected: func(e *nova.Error) bool { return e.Code == nova.ENOTFOUND || e.Code == nova.EFORBIDDEN },
		run: func(ctx context.Context, pd *gopd.Client) error {
			var raw json.RawMessage
			if err := c.getJSON(ctx, pd, "/service_dependencies/technical_services/"+serviceID, nil, &raw); err != nil {
				return err
			}
			refs, err := decodeSupportingServices(raw, serviceID)
			if err != nil {
				return err
			}
			out = refs
			return nil
		}})
	return out, err
}

// wireServiceDependencies is the answer of GET
// /service_dependencies/technical_services/{id}. Fields Nova does not use
// are ignored, like everywhere in client_decode.go.
type wireServiceDependencies struct {
	Relationships *[]wireServiceDependency `json:"relationships"`
}

type wireServiceDependency struct {
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	Supporting *wireServiceRef `json:"supporting_service"`
	Dependent  *wireServiceRef `json:"dependent_service"`
}

type wireServiceRef struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// responseError is an answer PagerDuty gave in a shape Nova refuses to
// read; like a JSON syntax error it is not retried (isDecodeError).
type responseError struct{ msg string }

func (e *responseError) Error() string { return "unreadable PagerDuty answer: " + e.msg }

func badAnswer(format string, args ...any) error {
	return &responseError{msg: fmt.Sprintf(format, args...)}
}

// decodeSupportingServices reads a service dependencies answer and returns
// the technical services serviceID depends on. It refuses an answer that
// is not one JSON object with a relationships list, or whose relationships
// lack either side or name a service by something that is not a PagerDuty
// id: such an answer is not one to guess from. Unknown fields, relationship
// types other than service_dependency and reference types other than the
// two known ones are tolerated and skipped.
func decodeSupportingServices(b []byte, serviceID string) ([]nova.Ref, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	var w wireServiceDependencies
	if err := d.Decode(&w); err != nil {
		// An empty answer too: a 2xx without a body is not worth asking again.
		return nil, badAnswer("%v", err)
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return nil, badAnswer("data after the JSON object")
	}
	if w.Relationships == nil {
		return nil, badAnswer("no relationships list")
	}
	rels := *w.Relationships
	if len(rels) > maxRelationships {
		return nil, badAnswer("%d relationships, more than PagerDuty allows", len(rels))
	}
	out := []nova.Ref{}
	seen := map[string]bool{}
	for i, r := range rels {
		if r.Supporting == nil || r.Dependent == nil {
			return nil, badAnswer("relationship %d lacks its supporting or dependent service", i)
		}
		for _, s := range []*wireServiceRef{r.Supporting, r.Dependent} {
			if !idSegment.MatchString(s.ID) || s.Type == "" {
				return nil, badAnswer("relationship %d names a service without a valid id and type", i)
			}
		}
		if r.Type != "" && r.Type != "service_dependency" {
			continue
		}
		if r.Dependent.ID != serviceID || r.Dependent.Type != technicalServiceRef ||
			r.Supporting.Type != technicalServiceRef || r.Supporting.ID == serviceID || seen[r.Supporting.ID] {
			continue
		}
		seen[r.Supporting.ID] = true
		out = append(out, nova.Ref{ID: r.Supporting.ID, Type: "service_reference"})
	}
	return out, nil
}
