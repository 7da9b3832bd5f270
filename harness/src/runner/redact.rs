//! Credentials never reach the terminal, results.json or a report: any `scheme://user:password@`
//! in a message (the harness's own, or a target's stderr tail) loses its password.

/// `text` with the password of every URL in it replaced by `***`.
pub fn credentials(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        // The authority ends at the first '/', '?', '#' or blank; userinfo ends at its last '@'.
        let end = tail
            .find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace())
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                match userinfo.find(':') {
                    Some(colon) => {
                        out.push_str(&userinfo[..colon]);
                        out.push_str(":***");
                    }
                    None => out.push_str(userinfo),
                }
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::credentials;

    #[test]
    fn passwords_in_urls_are_masked_and_nothing_else_changes() {
        assert_eq!(
            credentials("connecting to postgres://bench:s3cr%40t@db:5432/test failed"),
            "connecting to postgres://bench:***@db:5432/test failed"
        );
        assert_eq!(
            credentials("redis://:pw@127.0.0.1:6379 and postgres://postgres@127.0.0.1/test"),
            "redis://:***@127.0.0.1:6379 and postgres://postgres@127.0.0.1/test"
        );
        assert_eq!(credentials("no url here: a:b@c"), "no url here: a:b@c");
        assert_eq!(
            credentials("http://127.0.0.1:4318/v1/traces"),
            "http://127.0.0.1:4318/v1/traces"
        );
        assert_eq!(credentials("trailing ://"), "trailing ://");
    }
}
