// Package slack is Nova's Slack adapter. It verifies and answers /nova slash
// commands and button clicks (over HTTP or Socket Mode) within Slack's 3 s
// acknowledgement window, renders the platform-neutral nova.Message as Block
// Kit, and talks to the Web API through a client that queues posts per
// channel so a storm delays messages but loses none.
//
// slack-go is imported as slackgo so that this package can keep the
// platform's name; the application logic lives behind the App interface.
package slack
