//! Genesys Cloud regions: where the login host and the API host of an org live.

use crate::Error;
use crate::concat;

/// One of the Genesys Cloud environments the official SDKs know.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Environment {
    /// `mypurecloud.com` (us_east_1)
    UsEast1,
    /// `use2.us-gov-pure.cloud` (us_east_2, FedRAMP)
    UsEast2,
    /// `mypurecloud.ie` (eu_west_1)
    EuWest1,
    /// `sae1.pure.cloud` (sa_east_1)
    SaEast1,
    /// `mypurecloud.com.au` (ap_southeast_2)
    ApSoutheast2,
    /// `mec1.pure.cloud` (me_central_1)
    MeCentral1,
    /// `mypurecloud.jp` (ap_northeast_1)
    ApNortheast1,
    /// `apne3.pure.cloud` (ap_northeast_3)
    ApNortheast3,
    /// `mypurecloud.de` (eu_central_1)
    EuCentral1,
    /// `euc2.pure.cloud` (eu_central_2)
    EuCentral2,
    /// `usw2.pure.cloud` (us_west_2)
    UsWest2,
    /// `mxc1.pure.cloud` (mx_central_1)
    MxCentral1,
    /// `cac1.pure.cloud` (ca_central_1)
    CaCentral1,
    /// `apse1.pure.cloud` (ap_southeast_1)
    ApSoutheast1,
    /// `apne2.pure.cloud` (ap_northeast_2)
    ApNortheast2,
    /// `edee1.eusc-pure.cloud` (eusc_de_east_1)
    EuscDeEast1,
    /// `euw2.pure.cloud` (eu_west_2)
    EuWest2,
    /// `aps1.pure.cloud` (ap_south_1)
    ApSouth1,
}

use Environment as E;

/// (variant, SDK key, environment domain). The AWS-style name is the key with `-` for `_`.
const TABLE: [(Environment, &str, &str); 18] = [
    (E::UsEast1, "us_east_1", "mypurecloud.com"),
    (E::UsEast2, "us_east_2", "use2.us-gov-pure.cloud"),
    (E::EuWest1, "eu_west_1", "mypurecloud.ie"),
    (E::SaEast1, "sa_east_1", "sae1.pure.cloud"),
    (E::ApSoutheast2, "ap_southeast_2", "mypurecloud.com.au"),
    (E::MeCentral1, "me_central_1", "mec1.pure.cloud"),
    (E::ApNortheast1, "ap_northeast_1", "mypurecloud.jp"),
    (E::ApNortheast3, "ap_northeast_3", "apne3.pure.cloud"),
    (E::EuCentral1, "eu_central_1", "mypurecloud.de"),
    (E::EuCentral2, "eu_central_2", "euc2.pure.cloud"),
    (E::UsWest2, "us_west_2", "usw2.pure.cloud"),
    (E::MxCentral1, "mx_central_1", "mxc1.pure.cloud"),
    (E::CaCentral1, "ca_central_1", "cac1.pure.cloud"),
    (E::ApSoutheast1, "ap_southeast_1", "apse1.pure.cloud"),
    (E::ApNortheast2, "ap_northeast_2", "apne2.pure.cloud"),
    (E::EuscDeEast1, "eusc_de_east_1", "edee1.eusc-pure.cloud"),
    (E::EuWest2, "eu_west_2", "euw2.pure.cloud"),
    (E::ApSouth1, "ap_south_1", "aps1.pure.cloud"),
];

impl Environment {
    /// All known environments, in the order of the SDK region tables.
    pub fn all() -> impl Iterator<Item = Environment> {
        TABLE.iter().map(|row| row.0)
    }

    fn row(self) -> &'static (Environment, &'static str, &'static str) {
        // The table holds every variant exactly once (tested), so the fallback is unreachable in practice.
        TABLE.iter().find(|row| row.0 == self).unwrap_or(&TABLE[0])
    }

    /// The SDK key, e.g. `eu_west_1`.
    pub fn key(self) -> &'static str {
        self.row().1
    }

    /// The environment domain, e.g. `mypurecloud.ie`.
    pub fn domain(self) -> &'static str {
        self.row().2
    }
}

/// Where an org lives: a known Genesys Cloud environment, or custom hosts (the emulator, a private stack).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Region {
    /// A Genesys Cloud environment: `https://login.<env>` and `https://api.<env>`.
    Cloud(Environment),
    /// Explicit base URLs, e.g. the local emulator at `http://127.0.0.1:8080`.
    Custom {
        /// Origin of the login host (`/oauth/authorize`, `/oauth/token`, `/logout`), no trailing slash.
        login_base: String,
        /// Origin of the API host (`/api/v2/...`), no trailing slash.
        api_base: String,
    },
}

impl Region {
    /// Parses a known region named by environment (`mypurecloud.ie`), SDK key (`eu_west_1`), AWS name
    /// (`eu-west-1`) or a Genesys origin (`https://apps.mypurecloud.ie`, `https://login.mypurecloud.ie`).
    ///
    /// Never accepts an arbitrary host: use this for input that comes from a URL, such as the `gcHostOrigin`
    /// parameter Genesys Cloud passes to embedded apps.
    ///
    /// # Errors
    /// [`Error::UnknownRegion`], whose message lists the valid names.
    ///
    /// ```
    /// use genesys_auth::Region;
    /// let ie = Region::parse("eu-west-1").unwrap();
    /// assert_eq!(ie, Region::parse("https://apps.mypurecloud.ie").unwrap());
    /// assert_eq!(ie.login_base(), "https://login.mypurecloud.ie");
    /// assert!(Region::parse("https://evil.example").is_err());
    /// ```
    pub fn parse(input: &str) -> Result<Region, Error> {
        let unknown = || Error::UnknownRegion { input: truncate(input, 80) };
        let text = input.trim_ascii().to_ascii_lowercase();
        if text.is_empty() || text.len() > 200 {
            return Err(unknown());
        }
        let host = if let Some(rest) = text.strip_prefix("https://") {
            // Only an origin, optionally with a trailing slash or path: no userinfo, no port.
            let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
            if authority.contains(['@', ':']) {
                return Err(unknown());
            }
            ["apps.", "login.", "api."].iter().find_map(|p| authority.strip_prefix(p)).unwrap_or(authority).to_string()
        } else {
            // Anything else with a scheme matches no name below.
            text
        };
        let key: String = host.chars().map(|c| if c == '-' { '_' } else { c }).collect();
        TABLE
            .iter()
            .find(|(_, k, domain)| *k == key || *domain == host)
            .map(|row| Region::Cloud(row.0))
            .ok_or_else(unknown)
    }

    /// A custom region with one base URL serving both the login and the API paths (the emulator).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] unless `base` is an origin: `https://host[:port]`, or `http://` on a loopback
    /// host (`localhost`, `127.0.0.1`, `[::1]`). Plain http elsewhere would send tokens in clear text.
    ///
    /// ```
    /// use genesys_auth::Region;
    /// assert!(Region::custom("http://127.0.0.1:8080").is_ok());
    /// assert!(Region::custom("http://gc.example.com").is_err()); // clear text only on loopback
    /// ```
    pub fn custom(base: &str) -> Result<Region, Error> {
        Self::custom_pair(base, base)
    }

    /// A custom region with separate login and API origins. Same rules as [`Region::custom`].
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when either is not an acceptable origin.
    pub fn custom_pair(login_base: &str, api_base: &str) -> Result<Region, Error> {
        Ok(Region::Custom { login_base: origin(login_base)?, api_base: origin(api_base)? })
    }

    /// A known region name, or else a custom base URL: what an app's own configuration may say.
    ///
    /// # Errors
    /// [`Error::UnknownRegion`] when the input is neither.
    pub fn from_config(input: &str) -> Result<Region, Error> {
        match Region::parse(input) {
            Ok(region) => Ok(region),
            Err(err) => {
                let t = input.trim_ascii();
                if t.starts_with("http://") || t.starts_with("https://") {
                    // A base URL that is not usable says why (not "unknown region").
                    Region::custom(t)
                } else {
                    Err(err)
                }
            }
        }
    }

    /// The region Genesys Cloud names in the query parameters it gives embedded apps: `gcHostOrigin`
    /// (`https://apps.mypurecloud.ie`), the legacy `pcEnvironment` (`mypurecloud.ie`), or `gcTargetEnv`.
    /// `Ok(None)` when none is present.
    ///
    /// Only known regions are accepted, plus the exact origins in `allowed_custom` (e.g. a local emulator the app
    /// itself configured): an arbitrary origin from a URL is never trusted as a login host.
    ///
    /// # Errors
    /// [`Error::UnknownRegion`] when a parameter names something else.
    ///
    /// ```
    /// use genesys_auth::Region;
    /// let r = Region::from_host_params("gcHostOrigin=https%3A%2F%2Fapps.mypurecloud.de&gcTargetEnv=prod", &[]);
    /// assert_eq!(r.unwrap().unwrap().api_base(), "https://api.mypurecloud.de");
    /// assert!(Region::from_host_params("gcHostOrigin=https%3A%2F%2Fevil.example", &[]).is_err());
    /// ```
    pub fn from_host_params(query: &str, allowed_custom: &[&str]) -> Result<Option<Region>, Error> {
        let query = query.strip_prefix('?').unwrap_or(query);
        let params: Vec<(String, String)> = crate::form::parse(query).collect();
        let get = |k: &str| {
            params.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim_ascii().to_string()).filter(|v| !v.is_empty())
        };
        let Some(value) = get("gcHostOrigin").or_else(|| get("pcEnvironment")).or_else(|| get("gcTargetEnv")) else {
            return Ok(None);
        };
        Region::from_host_value(&value, allowed_custom).map(Some)
    }

    /// The region one host parameter names (see [`Region::from_host_params`]), or a name remembered from one: one of
    /// the exact origins in `allowed_custom` (a trailing slash aside), else a known region. The one rule for both.
    ///
    /// # Errors
    /// [`Error::UnknownRegion`] for anything else.
    ///
    /// ```
    /// use genesys_auth::Region;
    /// let allowed = ["http://127.0.0.1:8080"];
    /// assert_eq!(Region::from_host_value("http://127.0.0.1:8080/", &allowed).unwrap().name(), "http://127.0.0.1:8080");
    /// assert_eq!(Region::from_host_value("mypurecloud.ie", &allowed).unwrap().name(), "mypurecloud.ie");
    /// assert!(Region::from_host_value("http://127.0.0.1:9", &allowed).is_err());
    /// ```
    pub fn from_host_value(value: &str, allowed_custom: &[&str]) -> Result<Region, Error> {
        match allowed_custom.iter().find(|a| a.trim_end_matches('/') == value.trim_end_matches('/')) {
            Some(allowed) => Region::custom(allowed),
            None => Region::parse(value),
        }
    }

    /// The environment domain (`mypurecloud.ie`), or the login base of a custom region: a name that
    /// [`Region::from_config`] reads back.
    pub fn name(&self) -> String {
        match self {
            Region::Cloud(env) => env.domain().to_string(),
            Region::Custom { login_base, .. } => login_base.clone(),
        }
    }

    /// Origin of the login host, e.g. `https://login.mypurecloud.ie`.
    pub fn login_base(&self) -> String {
        match self {
            Region::Cloud(env) => concat(&["https://login.", env.domain()]),
            Region::Custom { login_base, .. } => login_base.clone(),
        }
    }

    /// Where an API request for `path_or_url` goes, if the access token may go there: a path (`/api/v2/...`) is
    /// put on the region's API origin; an absolute URL must already be on it. This is the one rule every driver
    /// follows before it attaches the token.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for anything that would leave the API origin (`//host`, `@host`, `.evil.example`,
    /// another origin, backslashes, control characters).
    ///
    /// ```
    /// use genesys_auth::Region;
    /// let ie = Region::parse("eu_west_1").unwrap();
    /// assert_eq!(ie.api_url("/api/v2/users/me").unwrap(), "https://api.mypurecloud.ie/api/v2/users/me");
    /// assert!(ie.api_url("https://api.mypurecloud.ie/api/v2/users/me").is_ok());
    /// for bad in ["@evil.example/x", ".evil.example/", "//evil.example/", "https://api.mypurecloud.ie.evil.example/"] {
    ///     assert!(ie.api_url(bad).is_err(), "{bad}");
    /// }
    /// ```
    pub fn api_url(&self, path_or_url: &str) -> Result<String, Error> {
        let refused = Error::InvalidConfig {
            field: "url",
            reason: "the access token goes only to the region's API origin: pass a path such as /api/v2/users/me",
        };
        if path_or_url.contains('\\') || path_or_url.chars().any(|c| c.is_control() || c == ' ') {
            return Err(refused);
        }
        let api = self.api_base();
        if path_or_url.starts_with('/') && !path_or_url.starts_with("//") {
            return Ok(concat(&[api.as_str(), path_or_url]));
        }
        let same_origin = path_or_url
            .strip_prefix(api.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?', '#']));
        if same_origin { Ok(path_or_url.to_string()) } else { Err(refused) }
    }

    /// Origin of the API host, e.g. `https://api.mypurecloud.ie`.
    pub fn api_base(&self) -> String {
        match self {
            Region::Cloud(env) => concat(&["https://api.", env.domain()]),
            Region::Custom { api_base, .. } => api_base.clone(),
        }
    }
}

/// The valid region names, for error messages.
pub(crate) fn valid_names() -> String {
    let mut out = String::new();
    for (_, key, domain) in TABLE {
        if !out.is_empty() {
            out.push_str(", ");
        }
        out.push_str(key);
        out.push_str(" (");
        out.push_str(domain);
        out.push(')');
    }
    out
}

fn origin(input: &str) -> Result<String, Error> {
    let bad = |reason: &'static str| Error::InvalidConfig { field: "region", reason };
    let t = input.trim_ascii().trim_end_matches('/');
    let (secure, authority) = if let Some(a) = t.strip_prefix("https://") {
        (true, a)
    } else if let Some(a) = t.strip_prefix("http://") {
        (false, a)
    } else {
        return Err(bad("a custom base URL must start with https:// (or http:// on a loopback host)"));
    };
    if authority.is_empty()
        || authority.len() > 253
        || authority.contains(['/', '?', '#', '@', ' ', '\\'])
        || !authority.is_ascii()
    {
        return Err(bad("a custom base URL must be an origin: scheme, host and optional port, no path"));
    }
    // host[:port], with a bracketed IPv6 host: after the host only a port may follow.
    let (host, port) = if authority.starts_with('[') {
        let end = authority.find(']').ok_or_else(|| bad("an IPv6 host must be in brackets: http://[::1]:8080"))?;
        (&authority[..=end], &authority[end + 1..])
    } else {
        authority.find(':').map_or((authority, ""), |i| authority.split_at(i))
    };
    let port_ok = port.is_empty()
        || port
            .strip_prefix(':')
            .is_some_and(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    if host.is_empty() || host == "[]" || !port_ok {
        return Err(bad("a custom base URL must be an origin: scheme, host and optional port, no path"));
    }
    if !secure && !matches!(host, "localhost" | "127.0.0.1" | "[::1]") {
        return Err(bad("plain http:// is allowed only on loopback hosts (localhost, 127.0.0.1, [::1])"));
    }
    Ok(t.to_string())
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_holds_each_environment_once() {
        let envs: Vec<_> = Environment::all().collect();
        for (i, a) in envs.iter().enumerate() {
            assert_eq!(envs.iter().filter(|b| *b == a).count(), 1, "{a:?} at {i}");
        }
        assert_eq!(envs.len(), 18);
    }

    #[test]
    fn all_spellings_of_a_region_agree() {
        for input in [
            "mypurecloud.ie",
            "eu_west_1",
            "eu-west-1",
            "EU-WEST-1",
            "https://apps.mypurecloud.ie",
            "https://login.mypurecloud.ie/",
            "https://api.mypurecloud.ie/api/v2",
            " https://mypurecloud.ie ",
        ] {
            assert_eq!(Region::parse(input).ok(), Some(Region::Cloud(E::EuWest1)), "{input}");
        }
    }

    #[test]
    fn unknown_region_lists_the_valid_names() {
        let err = Region::parse("mypurecloud.fr").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("eu_west_1 (mypurecloud.ie)"), "{err}");
        assert!(err.contains("mypurecloud.fr"), "{err}");
    }

    #[test]
    fn arbitrary_origins_are_not_regions() {
        for input in [
            "https://evil.example",
            "https://apps.mypurecloud.ie.evil.example",
            "http://apps.mypurecloud.ie",
            "https://user@apps.mypurecloud.ie",
            "https://apps.mypurecloud.ie:444",
            "javascript:alert(1)",
            "",
        ] {
            assert!(Region::parse(input).is_err(), "{input}");
        }
    }

    #[test]
    fn host_params_name_known_regions_or_allowed_origins_only() {
        let ie = Some(Region::Cloud(E::EuWest1));
        assert_eq!(
            Region::from_host_params("?gcHostOrigin=https%3A%2F%2Fapps.mypurecloud.ie&gcTargetEnv=prod", &[]).ok(),
            Some(ie.clone())
        );
        assert_eq!(Region::from_host_params("pcEnvironment=mypurecloud.ie", &[]).ok(), Some(ie));
        assert_eq!(Region::from_host_params("other=1", &[]).ok(), Some(None));
        assert!(Region::from_host_params("gcHostOrigin=https%3A%2F%2Fevil.example", &[]).is_err());
        assert!(Region::from_host_params("gcHostOrigin=http%3A%2F%2F127.0.0.1%3A8080", &[]).is_err());
        let emu = Region::from_host_params("gcHostOrigin=http%3A%2F%2F127.0.0.1%3A8080", &["http://127.0.0.1:8080"]);
        assert_eq!(emu.ok().flatten().map(|r| r.api_base()), Some("http://127.0.0.1:8080".to_string()));
    }

    #[test]
    fn an_unusable_custom_base_says_why() {
        for (base, reason) in [
            ("http://127.0.0.1:3917/oauth", "must be an origin"),
            ("http://idp.example:3917", "only on loopback"),
            ("http://[::1]x.evil.example", "must be an origin"),
            ("http://127.0.0.1:80a", "must be an origin"),
        ] {
            match Region::from_config(base) {
                Err(Error::InvalidConfig { reason: r, .. }) => assert!(r.contains(reason), "{base}: {r}"),
                other => panic!("{base}: {other:?}"),
            }
        }
        assert!(Region::from_config("http://[::1]:8080").is_ok());
    }

    #[test]
    fn custom_bases_must_be_safe_origins() {
        assert!(Region::custom("http://127.0.0.1:8080").is_ok());
        assert!(Region::custom("http://localhost:8080/").is_ok());
        assert!(Region::custom("http://[::1]:8080").is_ok());
        assert!(Region::custom("https://gc.test.example").is_ok());
        assert!(Region::custom("http://gc.test.example").is_err());
        assert!(Region::custom("http://localhost.evil.example").is_err());
        assert!(Region::custom("https://host/path").is_err());
        assert!(Region::custom("ftp://host").is_err());
        let r = Region::from_config("http://127.0.0.1:9/").ok();
        assert_eq!(r.map(|r| r.api_base()), Some("http://127.0.0.1:9".to_string()));
    }

    #[test]
    fn keys_domains_and_names_read_back() {
        assert_eq!(E::EuWest1.key(), "eu_west_1");
        assert_eq!(E::EuWest1.domain(), "mypurecloud.ie");
        for env in Environment::all() {
            assert_eq!(Region::parse(env.key()).ok(), Some(Region::Cloud(env)), "{env:?}");
            assert_eq!(Region::parse(env.domain()).ok(), Some(Region::Cloud(env)), "{env:?}");
            let name = Region::Cloud(env).name();
            assert_eq!(name, env.domain());
            assert_eq!(Region::from_config(&name).ok(), Some(Region::Cloud(env)));
        }
        let emu = Region::custom_pair("http://127.0.0.1:8080", "http://127.0.0.1:9090").ok();
        assert_eq!(emu.as_ref().map(Region::name).as_deref(), Some("http://127.0.0.1:8080"));
        assert_eq!(emu.as_ref().map(Region::api_base).as_deref(), Some("http://127.0.0.1:9090"));
        let names = valid_names();
        assert!(names.starts_with("us_east_1 (mypurecloud.com), us_east_2 (use2.us-gov-pure.cloud), "), "{names}");
        assert!(names.ends_with("ap_south_1 (aps1.pure.cloud)"), "{names}");
    }

    #[test]
    fn region_input_is_bounded_at_200_characters() {
        let base = "https://api.mypurecloud.ie/";
        let at = format!("{base}{}", "a".repeat(200 - base.len()));
        assert_eq!(Region::parse(&at).ok(), Some(Region::Cloud(E::EuWest1)));
        assert!(Region::parse(&format!("{at}a")).is_err());
        assert!(Region::parse("   ").is_err());
    }

    #[test]
    fn api_url_refuses_each_unsafe_character_alone() {
        let ie = Region::Cloud(E::EuWest1);
        for bad in ["/api/v2\\x", "/api/v2\nx", "/api/v2\u{7f}x", "/api/v2 x", "https://api.mypurecloud.ie\\@evil"] {
            assert!(ie.api_url(bad).is_err(), "{bad:?}");
        }
        assert!(ie.api_url("https://api.mypurecloud.ie").is_ok());
        assert!(ie.api_url("https://api.mypurecloud.ie?x=1").is_ok());
        assert!(ie.api_url("https://api.mypurecloud.iex/").is_err());
    }

    #[test]
    fn custom_origin_bounds() {
        let host = |n: usize| format!("https://{}", "a".repeat(n));
        assert!(Region::custom(&host(253)).is_ok());
        assert!(Region::custom(&host(254)).is_err());
        assert!(Region::custom("https://gc.example:65535").is_ok());
        for bad in ["https://gc.example:123456", "https://gc.example:", "https://:8080", "http://[]:80", "http://[]"] {
            assert!(Region::custom(bad).is_err(), "{bad}");
        }
        assert!(Region::custom("https://gc.example:8443").is_ok());
    }
    #[test]
    fn config_padding_is_ascii_whitespace_only() {
        assert_eq!(Region::from_config(" \teu_west_1\n").ok(), Some(Region::Cloud(E::EuWest1)));
        assert!(Region::custom(" http://127.0.0.1:8080\r\n").is_ok());
        // Other white space is part of the text, which then names no region (a clear error, not a guess).
        let err = Region::from_config("\u{a0}eu_west_1").err().map(|e| e.code());
        assert_eq!(err, Some("unknown_region"));
    }
}
