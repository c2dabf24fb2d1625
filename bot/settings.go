package bot

import "github.com/novasre/nova/bot/settings"

// Settings is the part of the configuration bot acts on (see bot/settings).
type Settings = settings.Settings

// EnvSettings is one environment's part of the settings.
type EnvSettings = settings.Env
