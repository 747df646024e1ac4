enum PalisadeYjsRelayPlaceholder {}
