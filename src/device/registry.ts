// Which hooks a device profile gets: chosen by what the profile declares, never by its name.
import type { DeviceProfile } from "./model.js";
import { plainHooks, type DeviceHooks } from "./hooks.js";
import { yubikeyHooks } from "./yubikey-hooks.js";

export function hooksFor(profile: DeviceProfile): DeviceHooks {
  return profile.yubikey ? yubikeyHooks : plainHooks;
}
