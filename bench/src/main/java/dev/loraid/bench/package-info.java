/** loraid bench module. */
package dev.loraid.bench;
