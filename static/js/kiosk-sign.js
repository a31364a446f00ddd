// Signing the site rules on the kiosk's touchscreen (being built).
