import Crypto

extension ListingKey {
    /// Spamhaus HBL convention: the SHA-1 of the lower-cased address, in lower-case hex, is the
    /// label queried under `_email.<zone>` (SpamAssassin HashBL and rspamd ask it this way).
    public static func hashedLabel(email: String) -> String {
        HexText.encode(Array(Insecure.SHA1.hash(data: Array(email.lowercased().utf8))))
    }
}
