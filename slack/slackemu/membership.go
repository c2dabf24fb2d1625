package slackemu

// SetBotMember puts the bot in or out of a channel, as inviting it or a
// person removing it would; conversations.history then answers
// not_in_channel while it is out.
func (e *Emulator) SetBotMember(channelID string, member bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if ch, ok := e.channels[channelID]; ok {
		ch.member = member
	}
}
