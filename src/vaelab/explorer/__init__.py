"""report/explorer.html: the latent plane in the browser, decoded under the pointer, offline."""
