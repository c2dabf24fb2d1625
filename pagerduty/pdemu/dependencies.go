package pdemu

import (
	"fmt"
	"net/http"
)

// dependency is one service dependency: dependent needs supporting.
type dependency struct {
	id                     string
	supporting, dependent  *service
	supportingBiz, depsBiz bool
}

// AddBusinessService adds a business service to environment: something
// the business offers, which depends on technical services (or other
// business services). It has no incidents of its own.
func (e *Emulator) AddBusinessService(environment string, s Service) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s.ID == "" {
		panic("pdemu: AddBusinessService needs an ID")
	}
	if _, ok := e.services[s.ID]; ok {
		panic(fmt.Sprintf("pdemu: AddBusinessService: %q is a technical service", s.ID))
	}
	if s.Name == "" {
		s.Name = s.ID
	}
	e.business[s.ID] = &service{Service: s, env: environment, createdAt: e.opts.Now().UTC()}
}

// AddServiceDependency records that dependentID depends on supportingID,
// as POST /service_dependencies/associate would. Either may be a technical
// or a business service, both of one environment; as in PagerDuty, a
// technical service may depend only on technical services. It returns the
// relationship's id.
func (e *Emulator) AddServiceDependency(dependentID, supportingID string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	dep, depBiz := e.anyService(dependentID)
	sup, supBiz := e.anyService(supportingID)
	switch {
	case dep.env != sup.env:
		panic(fmt.Sprintf("pdemu: AddServiceDependency: %q and %q are in different environments", dependentID, supportingID))
	case dependentID == supportingID:
		panic("pdemu: AddServiceDependency: a service cannot depend on itself")
	case !depBiz && supBiz:
		panic("pdemu: AddServiceDependency: a technical service cannot depend on a business service")
	}
	id := e.newID("D")
	e.dependencies = append(e.dependencies, dependency{id: id, supporting: sup, dependent: dep, supportingBiz: supBiz, depsBiz: depBiz})
	return id
}

// WithoutServiceDependencies makes environment's account one where service
// dependencies cannot be read: GET /service_dependencies/... answers 403,
// as for an account without the feature or a key without services.read.
func (e *Emulator) WithoutServiceDependencies(environment string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.noDeps[environment] = true
}

// anyService finds a technical or business service for a test helper; the
// caller holds e.mu.
func (e *Emulator) anyService(id string) (*service, bool) {
	if s, ok := e.services[id]; ok {
		return s, false
	}
	if s, ok := e.business[id]; ok {
		return s, true
	}
	panic(fmt.Sprintf("pdemu: unknown service %q", id))
}

func depRefJSON(s *service, business bool) obj {
	if business {
		return obj{"id": s.ID, "type": "business_service_reference"}
	}
	return obj{"id": s.ID, "type": "technical_service_reference"}
}

// getServiceDependencies lists a technical service's relationships in both
// directions (what it depends on and what depends on it), in the order
// they were made. The endpoint does not page.
func (e *Emulator) getServiceDependencies(w http.ResponseWriter, r *http.Request) {
	if !e.checkQuery(w, r) {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	svc, ok := e.serviceFor(w, r)
	if !ok {
		return
	}
	if e.noDeps[svc.env] {
		writeError(w, http.StatusForbidden, 2010, "Access Denied")
		return
	}
	out := []obj{}
	for _, d := range e.dependencies {
		if d.supporting != svc && d.dependent != svc {
			continue
		}
		out = append(out, obj{"id": d.id, "type": "service_dependency",
			"supporting_service": depRefJSON(d.supporting, d.supportingBiz),
			"dependent_service":  depRefJSON(d.dependent, d.depsBiz)})
	}
	writeJSON(w, http.StatusOK, obj{"relationships": out})
}
