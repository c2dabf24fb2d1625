package nova

import "testing"

// The subscription nova setup creates lists exactly the types Nova handles.
func TestHandledEventTypesMatchHandled(t *testing.T) {
	seen := map[EventType]bool{}
	for _, et := range HandledEventTypes {
		if !et.Handled() || seen[et] {
			t.Errorf("%s: handled %v, listed twice %v", et, et.Handled(), seen[et])
		}
		seen[et] = true
	}
	for _, et := range []EventType{EventPing, "incident.responder.added", "service.updated", "incident.delegated"} {
		if et.Handled() {
			t.Errorf("%s is handled but not in HandledEventTypes", et)
		}
	}
	if len(seen) != 9 {
		t.Errorf("%d handled types listed, want the 9 Handled accepts", len(seen))
	}
}
