package render

// PostmortemNote is the PagerDuty note linking an incident's postmortem
// draft: body (postmortem.NoteBody) with Nova's footer and audit id.
func PostmortemNote(body, auditID string) string { return fitNote(body, auditID) }
