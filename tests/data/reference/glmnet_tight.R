# Regenerates tests/data/reference/tcga_acc/glmnet_cox_alpha0.5_standardized_expression_thresh1e-14.tsv
# with R 4.2, glmnet 4.1-6 and survival 3.5-3 (Debian r-cran-glmnet r-cran-survival):
#   Rscript tests/data/reference/glmnet_tight.R
# Same fit as ../shared/reference/tcga_acc/glmnet_cox_alpha0.5_standardized_expression.tsv
# (which this script also reproduces, written to stdout as a check), but with
# thresh = 1e-14 so that glmnet's coordinate descent converges to the optimum instead of
# stopping at its default thresh = 1e-7.
suppressPackageStartupMessages({library(glmnet); library(survival)})
ref <- "tests/data/reference/tcga_acc"
endpoint <- read.delim(file.path(ref, "os_endpoint.tsv"))
expr <- read.delim("data/tcga_acc/expression_rsem_normalized.tsv", check.names = FALSE)
x <- t(log2(as.matrix(expr[, -1]) + 1))
colnames(x) <- expr$feature
patients <- substr(rownames(x), 1, 12)
m <- match(patients, endpoint$patient)
y <- Surv(endpoint$time[m], endpoint$event[m])
x <- scale(x)
lambda <- c(0.2, 0.1, 0.05)
fit <- function(thresh) {
  f <- glmnet(x, y, family = "cox", alpha = 0.5, lambda = lambda, standardize = FALSE,
              thresh = thresh, maxit = 1e7)
  out <- data.frame(feature = colnames(x), as.matrix(f$beta), check.names = FALSE)
  colnames(out) <- c("feature", paste0("lambda_", lambda))
  out
}
default <- fit(1e-7)
shared <- read.delim(file.path(ref, "glmnet_cox_alpha0.5_standardized_expression.tsv"))
shared <- shared[match(default$feature, shared$feature), ]
cat("max |default - shared reference|:", max(abs(as.matrix(default[, -1]) - as.matrix(shared[, -1]))), "\n")
tight <- fit(1e-14)
write.table(tight, file.path(ref, "glmnet_cox_alpha0.5_standardized_expression_thresh1e-14.tsv"),
            sep = "\t", quote = FALSE, row.names = FALSE)
cat("max |tight - default|:", max(abs(as.matrix(tight[, -1]) - as.matrix(default[, -1]))), "\n")
