package render

import (
	"regexp"

	"github.com/novasre/nova"
)

// auditIDPattern finds Nova's audit ids in text.
var auditIDPattern = regexp.MustCompile(`nova-[0-9A-HJKMNP-TV-Z]{26}`)

func ContainsAuditID(s string) bool { return auditIDPattern.MatchString(s) }

// noteAnchorPattern finds the audit chain head Nova wrote into one of its
// notes: only on the line right above the footer that ends the note, so
// that outside text quoted in the note cannot pose as an anchor.
var noteAnchorPattern = regexp.MustCompile(`(?:^|\n)` + regexp.QuoteMeta(auditHeadPrefix) +
	`([0-9]{1,18}:[0-9a-f]{16})\r?\n` + regexp.QuoteMeta(noteFooter("")) + `nova-[0-9A-HJKMNP-TV-Z]{26}\s*$`)

// AuditAnchorInNote returns the audit chain head a note of Nova's
// witnesses, if it carries one.
func AuditAnchorInNote(content, source string) (nova.AuditAnchor, bool) {
	m := noteAnchorPattern.FindStringSubmatch(content)
	if m == nil {
		return nova.AuditAnchor{}, false
	}
	a, err := nova.ParseAuditAnchor(m[1], source)
	return a, err == nil
}
