// Stores a login in a Thunderbird profile's password manager before
// Thunderbird first starts, so the CalDAV provider finds it when the server
// answers 401 and never prompts (a prompt would hang a headless run).
//
//   thunderbird-bin -xpcshell -g /usr/lib/thunderbird -a /usr/lib/thunderbird \
//       login.js PROFILE_DIR ORIGIN REALM USER PASSWORD
//
// Thunderbird looks the login up by the server's origin (scheme://host:port,
// no path) and the realm of the 401 challenge (WWW-Authenticate: Basic
// realm="..."), so both must match exactly. Prints "stored login ..." and
// exits 0 on success, prints "ERROR ..." and exits 1 otherwise.

const [profPath, origin, realm, user, pass] = arguments;

// xpcshell has no profile: point the profile directory keys at PROFILE_DIR,
// then announce it the way the application does on startup.
const profD = Cc["@mozilla.org/file/local;1"].createInstance(Ci.nsIFile);
profD.initWithPath(profPath);
Services.dirsvc.registerProvider({
  getFile(prop, persistent) {
    persistent.value = true;
    if (["ProfD", "ProfLD", "ProfDS", "ProfLDS"].includes(prop)) {
      return profD.clone();
    }
    throw Components.Exception("", Cr.NS_ERROR_FAILURE);
  },
  QueryInterface: ChromeUtils.generateQI(["nsIDirectoryServiceProvider"]),
});
Services.obs.notifyObservers(null, "profile-do-change", "xpcshell-do-get-profile");
Services.obs.notifyObservers(null, "profile-after-change", "xpcshell-do-get-profile");

let failed = null;
let done = false;
(async () => {
  await Services.logins.initializationPromise;
  const info = Cc["@mozilla.org/login-manager/loginInfo;1"].createInstance(Ci.nsILoginInfo);
  info.init(origin, null, realm, user, pass, "", "");
  await Services.logins.addLoginAsync(info);
  // Read it back through the same API the CalDAV provider uses.
  const found = await Services.logins.searchLoginsAsync({ origin, httpRealm: realm });
  if (found.length != 1 || found[0].username != user || found[0].password != pass) {
    throw new Error(`read back ${found.length} logins for ${origin} realm ${realm}`);
  }
  print(`stored login for ${user} at ${origin} realm ${realm}`);
})()
  .catch(e => {
    failed = e;
  })
  .finally(() => {
    done = true;
  });
Services.tm.spinEventLoopUntil("login.js: store", () => done);

// Run the profile shutdown phases so the JSON store is flushed and the Rust
// login store releases its callbacks; without this xpcshell aborts at exit
// ("UniFFI callback leak") with a segmentation fault.
Services.prefs.setBoolPref("toolkit.asyncshutdown.testing", true);
const { AsyncShutdown } = ChromeUtils.importESModule("resource://gre/modules/AsyncShutdown.sys.mjs");
let closed = false;
(async () => {
  for (const phase of ["profileChangeTeardown", "profileBeforeChange"]) {
    await AsyncShutdown[phase]._trigger();
  }
})()
  .catch(e => {
    failed = failed || e;
  })
  .finally(() => {
    closed = true;
  });
Services.tm.spinEventLoopUntil("login.js: shutdown", () => closed);

if (failed) {
  print(`ERROR ${failed}`);
  quit(1);
}
